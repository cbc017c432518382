"""The web chat's own address, for the places it is written into: the widget's script and the page's CSP.

The Host header is whatever the client sent, and it can hold quotes, ``\\``,
``;`` and ``<``. Written raw into ``widget.js`` it could close the string and
run script on a partner's site; written into the Content-Security-Policy it
could add directives. So a Host is used only when it is a plain host[:port]
(a name of letters, digits, dots and hyphens, or a bracketed IPv6 address,
and an optional numeric port); otherwise the caller answers 400. No browser
sends anything else, so nobody real is turned away.
"""

from __future__ import annotations

import json
import re

from aiohttp import web

_HOST = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?")


def valid_host(request: web.Request) -> str | None:
    """The request's Host if it is a plain host[:port], else None."""
    host = request.host
    return host if _HOST.fullmatch(host) else None


def chat_url(request: web.Request, public_url: str) -> str | None:
    """Where the widget sends people: FRONTDOOR_PUBLIC_URL when set (the Host is then not used at
    all), else this request's scheme and validated Host; None when the Host is not usable."""
    if public_url:
        return public_url.rstrip("/") + "/"
    host = valid_host(request)
    return f"{request.scheme}://{host}/" if host else None


def js_string(value: str) -> bytes:
    """A JavaScript string literal that can't break out: JSON, with ``<``, ``>`` and ``&`` escaped
    as well so it stays inert even if a partner pastes the script inline."""
    text = json.dumps(value)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").encode()
