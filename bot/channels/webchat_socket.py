"""The web chat's socket: one session per socket, tokens only the server issued, no idle sockets.

A browser tab is a person; a socket is how it talks. What holds here, so
one script can't turn one connection into thousands of people:

* **One session per socket.** The first ``start`` or ``resume`` frame fixes
  the socket's session; a later ``start`` begins the conversation again in
  that same session (its rate limit and all), a later ``resume`` is ignored.
* **Resume only what we issued.** The token the page holds is sealed by the
  server (Fernet: authenticated, timestamped). ``resume`` with a token we
  did not issue, or one older than the session could live, starts afresh; a
  client can't pick a session key. A socket that lives long gets a fresh
  token now and then, so a dropped connection can come back.
* **No idle sockets.** A socket that says nothing is closed: soon if it
  never started a conversation, after the session's own idle time if it did.
* **A cap per address**, on sockets open at once in this replica, beside the
  new-sockets-a-minute limit (through the port, so it holds across replicas).
  The address is the client's as the trusted proxy reports it, never the
  proxy's own.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections import Counter

from aiohttp import WSMsgType, web

from bot.channels.port import ChannelPort, Delivery, Says
from bot.conversation.events import Channel, Inbound, InboundKind, Reply, SendContactCard

log = logging.getLogger(__name__)

WEB = Channel.WEB
MAX_FRAME_BYTES = 4096  # a message is at most a few hundred characters; more is junk
MAX_JUNK_FRAMES = 5  # unreadable frames on one socket before it is closed
SOCKETS_PER_MINUTE = 20  # new sockets per address a minute, across replicas
SOCKETS_AT_ONCE = 10  # open sockets per address in one replica (fewer than the new ones a minute)
HELLO_SECONDS = 30.0  # a socket must start or resume within this
REFRESH_SECONDS = 300.0  # a socket this old gets a fresh resume token
MAX_TOKEN = 400
FRAME_TYPES = ("start", "resume", "message", "choice", "exit")


class ChatSockets:
    """Every open chat socket of this replica, and the protocol each one speaks."""

    def __init__(self, port: ChannelPort, *, hello_seconds: float = HELLO_SECONDS) -> None:
        self.port = port
        self.rejected = port.metrics.WEBHOOK_REJECTIONS
        self.by_key: dict[str, web.WebSocketResponse] = {}  # session key -> open socket
        self.per_address: Counter[str] = Counter()
        self.hello_seconds = hello_seconds
        self.token_age = port.settings.session_idle_seconds + 300
        self.idle_seconds = port.settings.session_idle_seconds + 60.0

    # --- tokens --------------------------------------------------------------------------

    def issue(self, nonce: str) -> str:
        return self.port.sealer.seal(nonce)

    def nonce_of(self, token: object) -> str | None:
        """The nonce inside a token we issued and that is still young enough; else None."""
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN:
            return None
        return self.port.sealer.open(token, max_age=self.token_age)

    # --- one socket ------------------------------------------------------------------------

    async def serve(self, request: web.Request) -> web.StreamResponse:
        address = self.port.key("address:" + (request.remote or ""))  # a keyed hash: no address is held, even in memory
        if self.per_address[address] >= SOCKETS_AT_ONCE or not await self.port.allow("sockets", request.remote or "", SOCKETS_PER_MINUTE, 60):
            self.rejected.labels("webchat", "rate").inc()
            raise web.HTTPTooManyRequests(text=self.port.says(Says.RATE_LIMITED).text)
        ws = web.WebSocketResponse(max_msg_size=MAX_FRAME_BYTES, heartbeat=30)
        await ws.prepare(request)
        self.per_address[address] += 1
        key = ""
        try:
            key = await self._converse(ws)
        finally:
            self.per_address[address] -= 1
            if self.per_address[address] <= 0:
                del self.per_address[address]
            if key and self.by_key.get(key) is ws:
                del self.by_key[key]
            if not ws.closed:
                await ws.close()
        return ws

    async def _converse(self, ws: web.WebSocketResponse) -> str:
        key, nonce, issued, junk = "", "", 0.0, 0
        while True:
            try:
                msg = await ws.receive(timeout=self.idle_seconds if key else self.hello_seconds)
            except asyncio.TimeoutError:
                return key  # idle: closed by serve()
            if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                return key
            frame = parse(msg.data) if msg.type is WSMsgType.TEXT else None
            if frame is None:
                junk += 1
                self.rejected.labels("webchat", "malformed").inc()
                await send(ws, {"type": "error", "text": self.port.fallback().text})
                if junk >= MAX_JUNK_FRAMES:
                    return key
                continue
            kind = frame["type"]
            if not key:
                resumed = self.nonce_of(frame.get("token")) if kind == "resume" else None
                nonce = resumed or secrets.token_urlsafe(18)
                key = self.port.key(nonce)
                self.by_key[key] = ws
                issued = time.monotonic()
                await send(ws, {"type": "session", "token": self.issue(nonce)})
                if resumed is None and kind in ("start", "resume"):
                    await self.deliver(ws, key, Inbound(channel=WEB, kind=InboundKind.START))
                    continue
            elif time.monotonic() - issued > REFRESH_SECONDS:
                issued = time.monotonic()
                await send(ws, {"type": "session", "token": self.issue(nonce)})
            if kind == "resume":
                continue
            if kind == "exit":
                await self.end(key, "quick_exit")
                return key
            if kind == "start":
                await self.deliver(ws, key, Inbound(channel=WEB, kind=InboundKind.START))
            elif kind == "message":
                await self.deliver(ws, key, Inbound.typed(WEB, str(frame.get("text", ""))[:2000]))
            elif kind == "choice":
                await self.deliver(ws, key, Inbound.pressed(WEB, str(frame.get("id", ""))[:100]))

    async def deliver(self, ws: web.WebSocketResponse, key: str, inbound: Inbound) -> None:
        try:
            delivery: Delivery = await self.port.handle(key, inbound)
        except Exception:
            log.exception("web chat message failed", extra={"event": "webchat_failed"})
            await send(ws, {"type": "replies", "replies": [as_frame(self.port.fallback())]})
            return
        if delivery.replies:
            await send(ws, {"type": "replies", "replies": [as_frame(r) for r in delivery.replies]})
        if delivery.wants(SendContactCard):
            await send(ws, {"type": "contact", "url": "/chat/contact.vcf"})
        if delivery.ended:
            await send(ws, {"type": "ended"})

    # --- ends from elsewhere -----------------------------------------------------------------

    async def end(self, key: str, reason: str) -> None:
        await self.port.end(key, reason)
        ws = self.by_key.pop(key, None)
        if ws is not None and not ws.closed:
            await ws.close()

    async def on_idle(self, key: str, session) -> None:
        """A session idled out: if its page is still open, say so (with the number) and close."""
        ws = self.by_key.pop(key, None)
        if ws is None or ws.closed:
            return
        await send(ws, {"type": "replies", "replies": [as_frame(self.port.says(Says.IDLE_CLEARED, session.lang))]})
        await send(ws, {"type": "ended"})
        await ws.close()

    async def close_all(self, app: web.Application) -> None:
        """Shutdown: close every open socket (1001, going away); the page shows the number."""
        sockets = list(self.by_key.values())
        self.by_key.clear()
        await asyncio.gather(*(ws.close(code=1001, message=b"server restarting") for ws in sockets if not ws.closed), return_exceptions=True)


async def send(ws: web.WebSocketResponse, frame: dict) -> None:
    if ws.closed:
        return
    with contextlib.suppress(ConnectionError, RuntimeError):
        await ws.send_str(json.dumps(frame, ensure_ascii=False))


def parse(data: str) -> dict | None:
    try:
        frame = json.loads(data)
    except (ValueError, RecursionError):
        return None
    if not isinstance(frame, dict) or frame.get("type") not in FRAME_TYPES:
        return None
    return frame


def as_frame(reply: Reply) -> dict:
    return {"text": reply.text, "kind": reply.kind.value, "lang": reply.lang, "options": [{"id": o.id, "label": o.label} for o in reply.options]}
