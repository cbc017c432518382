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
new sockets are also limited per address so a script can't mint sessions.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import WSMsgType, web

from bot import CRISIS_LINE
from bot.channels.webchat_host import chat_url, js_string, valid_host
from bot.conversation.events import Channel, Inbound, InboundKind, Reply, SendContactCard
from bot.identity import keyed_hash
from bot.metrics import WEBHOOK_REJECTIONS
from bot.runtime import Runtime

log = logging.getLogger(__name__)

WEB = Channel.WEB
STATIC = Path(__file__).with_name("webchat_static")
MAX_FRAME_BYTES = 4096  # a message is at most a few hundred characters; more is junk
MAX_JUNK_FRAMES = 5  # unreadable frames on one socket before it is closed
SOCKETS_PER_MINUTE = 20  # new sockets per address a minute
FALLBACK = f"Sorry, that didn't work. Crisis line: {CRISIS_LINE}, any time. In danger now: 999."
SOCKETS = web.AppKey("webchat_sockets", dict)
CHAT_URL = b'"{{CHAT_URL}}"'  # the quoted placeholder in widget.js: replaced whole by a JSON string literal
BAD_HOST = f"Bad Host header. Crisis line: {CRISIS_LINE}, any time. In danger now: 999."


def setup(app: web.Application, runtime: Runtime) -> None:
    """Always on: the web chat is the embedded default's front door."""
    channel = WebChat(runtime)
    app[SOCKETS] = channel.sockets
    app.router.add_get("/", channel.page)
    app.router.add_get("/chat/ws", channel.socket)
    app.router.add_get("/chat/app.js", channel.asset)
    app.router.add_get("/chat/style.css", channel.asset)
    app.router.add_get("/chat/widget.js", channel.widget)
    app.router.add_get("/chat/contact.vcf", channel.contact_card)
    app.router.add_post("/chat/exit", channel.exit_beacon)
    app.on_shutdown.append(channel.close_all)
    runtime.gateway.on_idle(WEB, channel.on_idle)


def _no_store(response: web.StreamResponse) -> web.StreamResponse:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


class WebChat:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.gateway = runtime.gateway
        self.engine = runtime.engine
        self.sockets: dict[str, web.WebSocketResponse] = {}  # session key -> open socket
        self._page = (STATIC / "index.html").read_text(encoding="utf-8")
        self._assets = {name: (STATIC / name).read_bytes() for name in ("app.js", "style.css", "widget.js")}

    # --- the page and its files --------------------------------------------------------

    async def page(self, request: web.Request) -> web.Response:
        csp = self._csp(request)
        if csp is None:
            return _bad_host()
        html = self._page.replace("{{QUICK_EXIT_URL}}", _html_attr(self.runtime.settings.quick_exit_url))
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
        url = chat_url(request, self.runtime.settings.public_url)
        if url is None:
            return _bad_host()
        body = self._assets["widget.js"].replace(CHAT_URL, js_string(url))
        response = web.Response(body=body, content_type="text/javascript", charset="utf-8")
        response.headers["Access-Control-Allow-Origin"] = "*"
        return _no_store(response)

    async def contact_card(self, request: web.Request) -> web.Response:
        """The crisis line as a .vcf, under a neutral name for contact lists and lock screens."""
        name = self.engine.standalone("contact_card_name", "en", WEB).text.strip()
        card = "\r\n".join(["BEGIN:VCARD", "VERSION:3.0", f"FN:{name}", f"N:{name};;;;", "TEL;TYPE=VOICE:+443001312789", "END:VCARD", ""])
        response = web.Response(text=card, content_type="text/vcard", charset="utf-8")
        response.headers["Content-Disposition"] = 'attachment; filename="contact.vcf"'
        return _no_store(response)

    async def exit_beacon(self, request: web.Request) -> web.Response:
        """Quick exit's belt and braces: the page also sends its token here with sendBeacon.

        The body is read as bytes and decoded as UTF-8 here, whatever charset the
        request claims: ``request.text()`` raised on bytes that aren't UTF-8 (or an
        unknown charset) and the beacon answered 500. A token we issued is ASCII,
        so such a body is junk: 400, and no session is touched.
        """
        try:
            token = (await request.read()).decode("utf-8")[:200].strip()
        except UnicodeDecodeError:
            WEBHOOK_REJECTIONS.labels("webchat", "malformed").inc()
            return _no_store(web.Response(status=400))
        if token:
            key = self.runtime.key(WEB.value, token)
            await self._end(key, "quick_exit")
        return _no_store(web.Response(status=204))

    # --- the socket ----------------------------------------------------------------

    def _origin_allowed(self, request: web.Request) -> bool:
        origin = request.headers.get("Origin", "")
        if not origin:
            return False
        parts = urlsplit(origin)
        if parts.netloc == request.host:
            return True
        return origin.rstrip("/") in self.runtime.settings.webchat_origins

    async def socket(self, request: web.Request) -> web.StreamResponse:
        if not self._origin_allowed(request):
            WEBHOOK_REJECTIONS.labels("webchat", "origin").inc()
            raise web.HTTPForbidden(text="This chat only opens from its own page.")
        address = keyed_hash(self.runtime.settings.hash_secret, request.remote or "", length=16)
        try:
            opened = await self.runtime.store.hit(f"webip:{address}", SOCKETS_PER_MINUTE, 60)
        except Exception:
            opened = 0  # the store is down: the gateway will answer in degraded mode
        if opened > SOCKETS_PER_MINUTE:
            WEBHOOK_REJECTIONS.labels("webchat", "rate").inc()
            raise web.HTTPTooManyRequests(text=f"Too many chats opened. Crisis line: {CRISIS_LINE}. In danger now: 999.")

        ws = web.WebSocketResponse(max_msg_size=MAX_FRAME_BYTES, heartbeat=30)
        await ws.prepare(request)
        key = ""
        junk = 0
        try:
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    if msg.type is WSMsgType.ERROR:
                        break
                    junk += 1
                    await self._send(ws, {"type": "error", "text": FALLBACK})
                    if junk >= MAX_JUNK_FRAMES:
                        break
                    continue
                frame = _parse(msg.data)
                if frame is None:
                    junk += 1
                    WEBHOOK_REJECTIONS.labels("webchat", "malformed").inc()
                    await self._send(ws, {"type": "error", "text": FALLBACK})
                    if junk >= MAX_JUNK_FRAMES:
                        break
                    continue
                kind = frame["type"]
                if kind in ("start", "resume") or not key:
                    token = frame.get("token") if kind == "resume" else None
                    if not isinstance(token, str) or not (16 <= len(token) <= 64):
                        token = secrets.token_urlsafe(24)
                    key = self.runtime.key(WEB.value, token)
                    self.sockets[key] = ws
                    await self._send(ws, {"type": "session", "token": token})
                    if kind == "start":
                        await self._converse(ws, key, Inbound(channel=WEB, kind=InboundKind.START))
                    if kind in ("start", "resume"):
                        continue
                if kind == "exit":
                    await self._end(key, "quick_exit")
                    await ws.close()
                    break
                if kind == "message":
                    await self._converse(ws, key, Inbound.typed(WEB, str(frame.get("text", ""))[:2000]))
                elif kind == "choice":
                    await self._converse(ws, key, Inbound.pressed(WEB, str(frame.get("id", ""))[:100]))
        finally:
            if key and self.sockets.get(key) is ws:
                del self.sockets[key]
        return ws

    async def _converse(self, ws: web.WebSocketResponse, key: str, inbound: Inbound) -> None:
        try:
            delivery = await self.gateway.handle(WEB, key, inbound)
        except Exception:
            log.exception("web chat message failed", extra={"event": "webchat_failed"})
            await self._send(ws, {"type": "replies", "replies": [_reply(self.engine.fallback_reply("en", WEB))]})
            return
        if delivery.replies:
            await self._send(ws, {"type": "replies", "replies": [_reply(r) for r in delivery.replies]})
        if delivery.wants(SendContactCard):
            await self._send(ws, {"type": "contact", "url": "/chat/contact.vcf"})
        if delivery.ended:
            await self._send(ws, {"type": "ended"})

    async def _send(self, ws: web.WebSocketResponse, frame: dict) -> None:
        if ws.closed:
            return
        with contextlib.suppress(ConnectionError, RuntimeError):
            await ws.send_str(json.dumps(frame, ensure_ascii=False))

    async def _end(self, key: str, reason: str) -> None:
        await self.gateway.end(key, reason)
        ws = self.sockets.pop(key, None)
        if ws is not None and not ws.closed:
            await ws.close()

    async def on_idle(self, key: str, session) -> None:
        """A session idled out: if its page is still open, say so (with the number) and close."""
        ws = self.sockets.pop(key, None)
        if ws is None or ws.closed:
            return
        closing = self.engine.standalone("idle_cleared", session.lang, WEB)
        await self._send(ws, {"type": "replies", "replies": [_reply(closing)]})
        await self._send(ws, {"type": "ended"})
        await ws.close()

    async def close_all(self, app: web.Application) -> None:
        """Shutdown: close every open socket (1001, going away); the page shows the number."""
        sockets = list(self.sockets.values())
        self.sockets.clear()
        await asyncio.gather(*(ws.close(code=1001, message=b"server restarting") for ws in sockets if not ws.closed), return_exceptions=True)


def _bad_host() -> web.Response:
    WEBHOOK_REJECTIONS.labels("webchat", "host").inc()
    return _no_store(web.Response(status=400, text=BAD_HOST))


def _parse(data: str) -> dict | None:
    try:
        frame = json.loads(data)
    except (ValueError, RecursionError):
        return None
    if not isinstance(frame, dict) or frame.get("type") not in ("start", "resume", "message", "choice", "exit"):
        return None
    return frame


def _reply(reply: Reply) -> dict:
    return {"text": reply.text, "kind": reply.kind.value, "lang": reply.lang, "options": [{"id": o.id, "label": o.label} for o in reply.options]}


def _html_attr(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
