"""The web chat: a page anyone can open at ``GET /``, talking over a WebSocket at ``/chat/ws``.

For people without Telegram, or on a work phone that blocks it. It is a thin
adapter: a frame in becomes an :class:`Inbound`, the gateway answers, and the
replies go back as one frame. The page itself (``webchat_static/``) is plain
HTML, CSS and a few KB of script with no framework, so it loads on a poor
signal and works with a screen reader.

What the browser keeps: nothing. No cookies, no localStorage or
sessionStorage, ``Cache-Control: no-store`` on everything, a strict
Content-Security-Policy and no third-party requests. The only thing that ties
a reconnecting socket to its session is a random token the page holds in a
JavaScript variable; the server keys the session by a keyed hash of it, so
a reload is a fresh start and nothing survives the tab.

The protocol (also used by ``frontdoor probe``):

* client to server: ``{"type": "start"}`` (a new page), ``{"type": "resume",
  "token": ...}`` (a dropped connection coming back), ``{"type": "message",
  "text": ...}``, ``{"type": "choice", "id": ...}``, ``{"type": "exit"}``
  (quick exit: end and wipe now);
* server to client: ``{"type": "session", "token": ...}``, ``{"type":
  "replies", "replies": [{"text", "options": [{"id", "label"}], "kind"}]}``,
  ``{"type": "contact"}`` (download the .vcf), ``{"type": "ended"}``, and
  ``{"type": "error", "text": ...}`` (always with the number).

The socket checks Origin (same host, or ``FRONTDOOR_WEBCHAT_ORIGINS``), caps
frame size, and shares the per-sender rate limit with every other channel;
:mod:`.webchat_socket` holds the rest (one session per socket, tokens only the
server issued, idle sockets closed, sockets per address capped).
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

from bot.channels.port import ChannelPort, Says
from bot.channels.webchat_host import chat_url, js_string, valid_host
from bot.channels.webchat_socket import WEB, ChatSockets

log = logging.getLogger(__name__)

CHANNEL = WEB
STATIC = Path(__file__).with_name("webchat_static")
SOCKETS = web.AppKey("webchat_sockets", ChatSockets)
CHAT_URL = b'"{{CHAT_URL}}"'  # the quoted placeholder in widget.js: replaced whole by a JSON string literal


def setup(app: web.Application, port: ChannelPort) -> None:
    """Always on: the web chat is the embedded default's front door."""
    channel = WebChat(port)
    app[SOCKETS] = channel.sockets
    app.router.add_get("/", channel.page)
    app.router.add_get("/chat/ws", channel.socket)
    app.router.add_get("/chat/app.js", channel.asset)
    app.router.add_get("/chat/style.css", channel.asset)
    app.router.add_get("/chat/widget.js", channel.widget)
    app.router.add_get("/chat/contact.vcf", channel.contact_card)
    app.router.add_post("/chat/exit", channel.exit_beacon)
    app.on_shutdown.append(channel.sockets.close_all)
    port.on_idle(channel.sockets.on_idle)


def _no_store(response: web.StreamResponse) -> web.StreamResponse:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


class WebChat:
    def __init__(self, port: ChannelPort) -> None:
        self.port = port
        self.sockets = ChatSockets(port)
        self._page = (STATIC / "index.html").read_text(encoding="utf-8")
        self._assets = {name: (STATIC / name).read_bytes() for name in ("app.js", "style.css", "widget.js")}

    # --- the page and its files --------------------------------------------------------

    async def page(self, request: web.Request) -> web.Response:
        csp = self._csp(request)
        if csp is None:
            return self._bad_host()
        html = self._page.replace("{{QUICK_EXIT_URL}}", _html_attr(self.port.settings.quick_exit_url))
        response = web.Response(text=html, content_type="text/html", charset="utf-8")
        response.headers["Content-Security-Policy"] = csp
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), interest-cohort=()"
        return _no_store(response)

    def _csp(self, request: web.Request) -> str | None:
        """The page's policy, or None when the Host is not a plain host[:port] (it is written into the header).

        ``'self'`` covers the socket in CSP 3 browsers; the ws:/wss: entries are for
        browsers older than that rule, so they stay, with the validated host only.
        """
        host = valid_host(request)
        if host is None:
            return None
        return (
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
            f"connect-src 'self' ws://{host} wss://{host}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        )

    async def asset(self, request: web.Request) -> web.Response:
        name = request.path.rsplit("/", 1)[-1]
        kind = "text/css" if name.endswith(".css") else "text/javascript"
        return _no_store(web.Response(body=self._assets[name], content_type=kind, charset="utf-8"))

    async def widget(self, request: web.Request) -> web.Response:
        """A script a partner site includes: a button that opens this chat in a new tab, with the number."""
        url = chat_url(request, self.port.settings.public_url)
        if url is None:
            return self._bad_host()
        body = self._assets["widget.js"].replace(CHAT_URL, js_string(url))
        response = web.Response(body=body, content_type="text/javascript", charset="utf-8")
        response.headers["Access-Control-Allow-Origin"] = "*"
        return _no_store(response)

    async def contact_card(self, request: web.Request) -> web.Response:
        """The crisis line as a .vcf, under a neutral name for contact lists and lock screens."""
        name = self.port.says(Says.CONTACT_CARD_NAME).text.strip()
        card = "\r\n".join(["BEGIN:VCARD", "VERSION:3.0", f"FN:{name}", f"N:{name};;;;", "TEL;TYPE=VOICE:+443001312789", "END:VCARD", ""])
        response = web.Response(text=card, content_type="text/vcard", charset="utf-8")
        response.headers["Content-Disposition"] = 'attachment; filename="contact.vcf"'
        return _no_store(response)

    async def exit_beacon(self, request: web.Request) -> web.Response:
        """Quick exit's belt and braces: the page also sends its token here with sendBeacon.

        Read as bytes: ``request.text()`` raised on a body that isn't UTF-8 and the
        beacon answered 500. A token we issued is ASCII, so such a body is junk: 400.
        """
        try:
            token = (await request.read())[:400].decode("ascii").strip()
        except UnicodeDecodeError:
            self.port.metrics.WEBHOOK_REJECTIONS.labels("webchat", "malformed").inc()
            return _no_store(web.Response(status=400))
        nonce = self.sockets.nonce_of(token)
        if nonce:
            await self.sockets.end(self.port.key(nonce), "quick_exit")
        return _no_store(web.Response(status=204))

    def _bad_host(self) -> web.Response:
        self.port.metrics.WEBHOOK_REJECTIONS.labels("webchat", "host").inc()
        return _no_store(web.Response(status=400, text=self.port.fallback().text))

    # --- the socket ----------------------------------------------------------------

    def _origin_allowed(self, request: web.Request) -> bool:
        origin = request.headers.get("Origin", "")
        if not origin:
            return False
        parts = urlsplit(origin)
        if parts.netloc == request.host:
            return True
        return origin.rstrip("/") in self.port.settings.webchat_origins

    async def socket(self, request: web.Request) -> web.StreamResponse:
        if not self._origin_allowed(request):
            self.port.metrics.WEBHOOK_REJECTIONS.labels("webchat", "origin").inc()
            raise web.HTTPForbidden(text="This chat only opens from its own page.")
        return await self.sockets.serve(request)


def _html_attr(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
