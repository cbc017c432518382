"""Callback sink: POST each request as signed JSON to the crisis team's system.

The body is JSON (see :func:`payload`). Two headers let the receiver check it
came from us and is fresh:

* ``Frontdoor-Timestamp``: Unix seconds when this attempt was signed;
* ``Frontdoor-Signature``: ``sha256=`` and the hex HMAC-SHA256, under
  FRONTDOOR_CALLBACK_WEBHOOK_SECRET, of ``<timestamp>.<body>`` (the raw bytes).

Any 2xx acknowledges. Anything else (a 3xx too: redirects are not followed,
so the signed body never goes somewhere unplanned), a refused connection or
a timeout means "not delivered": the dispatcher tries again later with the
same ``id`` (also sent as ``Idempotency-Key``), and the receiver keeps one per
id. docs/callbacks.md has a receiver.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import datetime, timezone
from typing import Any

import aiohttp

from bot.callbacks.base import CallbackRequest


class WebhookRejected(Exception):
    """The receiver answered with something other than 2xx (the status only: never the body)."""


def payload(request: CallbackRequest) -> dict[str, Any]:
    d = request.details
    body: dict[str, Any] = {
        "id": request.id,
        "created_at": datetime.fromtimestamp(request.created_at, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "phone": d.phone,
        "window": d.window,
        "voicemail_ok": d.voicemail_ok,
        "say_who_is_calling": d.say_who_is_calling,
        "channel": d.channel,
    }
    if d.name:
        body["name"] = d.name
    return body


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The value of Frontdoor-Signature for ``body`` signed at ``timestamp``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class WebhookSink:
    """Posts requests with aiohttp; one client session, opened at the first delivery."""

    name = "webhook"

    def __init__(self, url: str, secret: str, *, timeout: float = 10.0) -> None:
        if not url or not secret:
            raise ValueError("the webhook sink needs a URL and a secret")
        self.url = url
        self._secret = secret
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def deliver(self, request: CallbackRequest) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        body = json.dumps(payload(request), separators=(",", ":"), ensure_ascii=False).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "Frontdoor-Timestamp": timestamp,
            "Frontdoor-Signature": signature(self._secret, timestamp, body),
            "Idempotency-Key": request.id,
            "User-Agent": "frontdoor-callbacks",
        }
        async with self._session.post(self.url, data=body, headers=headers, allow_redirects=False) as resp:
            await resp.read()
            if not 200 <= resp.status < 300:
                raise WebhookRejected(f"the callback webhook answered {resp.status}")

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
