"""A small fake Telegram Bot API server, so the real PTB Application can be tested on loopback.

It answers the methods the bot calls, records every call (method and
parameters, decoded the way PTB sends them: form fields, JSON for
non-strings), and fails on demand: a 429 with ``retry_after`` or a 5xx, for
the next N calls to a method. getUpdates long-polls a queue the test fills,
so polling mode runs for real too.

Used by tests/telegram and bench/telegram_webhook.py. Only loopback.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any, Callable

from aiohttp import web

TOKEN = "123456789:TESTtokenCANARYdoNotLogThisValue0123"
BOT_ID = 123456789
BOT_USERNAME = "frontdoor_test_bot"
_JSON_FIELDS = {"chat_id", "reply_markup", "allowed_updates", "message_ids", "message_id", "offset", "timeout", "limit", "link_preview_options", "drop_pending_updates", "max_connections"}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)
    result: Any = None

    @property
    def chat_id(self) -> int | None:
        value = self.params.get("chat_id")
        return int(value) if value is not None else None

    @property
    def text(self) -> str:
        return str(self.params.get("text", ""))

    @property
    def buttons(self) -> list[dict]:
        markup = self.params.get("reply_markup") or {}
        return [b for row in markup.get("inline_keyboard", []) for b in row]


class FakeBotAPI:
    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.calls: list[Call] = []
        self.record = True  # the bench turns this off and reads ``counts`` only
        self.counts: dict[str, int] = defaultdict(int)
        self.failures: dict[str, deque[tuple[int, int | None]]] = defaultdict(deque)
        self.webhook: dict[str, Any] = {"url": ""}
        self.pending_update_count = 0
        self.last_error_date: int | None = None
        self._updates: list[dict] = []
        self._confirmed = 0
        self._new_update = asyncio.Event()
        self._ids = itertools.count(1_000)
        self._runner: web.AppRunner | None = None
        self.url = ""
        self.wrong_token_calls = 0
        self.delays: dict[str, float] = {}  # seconds to wait before answering a method (a slow network)

    # --- test controls ------------------------------------------------------------------

    def fail(self, method: str, status: int, *, retry_after: int | None = None, times: int = 1) -> None:
        """The next ``times`` calls to ``method`` answer ``status`` (429 with retry_after, or a 5xx)."""
        for _ in range(times):
            self.failures[method].append((status, retry_after))

    def next_message_id(self) -> int:
        """Message ids for updates the test makes, from the same counter as the bot's own messages."""
        return next(self._ids)

    def push_update(self, update: dict) -> None:
        """Queue an update for getUpdates (polling mode)."""
        self._updates.append(update)
        self._new_update.set()

    def calls_to(self, method: str, chat_id: int | None = None) -> list[Call]:
        return [c for c in self.calls if c.method == method and (chat_id is None or c.chat_id == chat_id)]

    def sent_ids(self, chat_id: int | None = None) -> list[int]:
        """Ids of the messages the bot sent (messages and contact cards) that the fake accepted."""
        return [c.result["message_id"] for c in self.calls if c.method in ("sendMessage", "sendContact") and isinstance(c.result, dict) and (chat_id is None or c.chat_id == chat_id)]

    def last_message(self, chat_id: int | None = None) -> Call:
        return [c for c in self.calls_to("sendMessage", chat_id) if c.result][-1]

    def sent_texts(self, chat_id: int | None = None) -> list[str]:
        return [c.text for c in self.calls_to("sendMessage", chat_id)]

    def deleted(self, chat_id: int | None = None) -> set[int]:
        """Ids of messages the fake accepted deleting."""
        ids: set[int] = set()
        for c in self.calls_to("deleteMessages", chat_id):
            if c.result:
                ids |= {int(i) for i in c.params["message_ids"]}
        for c in self.calls_to("deleteMessage", chat_id):
            if c.result:
                ids.add(int(c.params["message_id"]))
        return ids

    async def wait_for(self, condition: Callable[[], Any], timeout: float = 15.0) -> Any:
        """Wait until ``condition()`` is truthy (not a timing assertion: a generous deadline)."""
        deadline = time.monotonic() + timeout
        while True:
            result = condition()
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting; calls so far: {[c.method for c in self.calls]}")
            await asyncio.sleep(0.01)

    # --- server -------------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        self._new_update.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            self.wrong_token_calls += 1
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        params = await _params(request)
        call = Call(method, params)
        self.counts[method] += 1
        if self.record:
            self.calls.append(call)
        if self.failures[method]:
            status, retry_after = self.failures[method].popleft()
            body: dict[str, Any] = {"ok": False, "error_code": status, "description": f"fake failure {status}"}
            if retry_after is not None:
                body["parameters"] = {"retry_after": retry_after}
                body["description"] = f"Too Many Requests: retry after {retry_after}"
            return web.json_response(body, status=status)
        if self.delays.get(method):
            await asyncio.sleep(self.delays[method])
        answer = getattr(self, "_m_" + method, None)
        if answer is None:
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found: method not found"}, status=404)
        result = answer(params)
        if asyncio.iscoroutine(result):
            result = await result
        call.result = result
        return web.json_response({"ok": True, "result": result})

    # --- methods ------------------------------------------------------------------------

    def _m_getMe(self, p):
        return {"id": BOT_ID, "is_bot": True, "first_name": "Support", "username": BOT_USERNAME, "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}

    def _message(self, p, **extra):
        chat_id = int(p["chat_id"])
        chat = {"id": chat_id, "type": "private", "first_name": "Test"} if chat_id > 0 else {"id": chat_id, "type": "group", "title": "Test group"}
        return {"message_id": next(self._ids), "date": int(time.time()), "chat": chat, "from": {"id": BOT_ID, "is_bot": True, "first_name": "Support"}, **extra}

    def _m_sendMessage(self, p):
        return self._message(p, text=p.get("text", ""))

    def _m_sendContact(self, p):
        return self._message(p, contact={"phone_number": p["phone_number"], "first_name": p["first_name"]})

    def _m_answerCallbackQuery(self, p):
        return True

    def _m_editMessageReplyMarkup(self, p):
        return True

    def _m_editMessageText(self, p):
        return True

    def _m_deleteMessage(self, p):
        return True

    def _m_deleteMessages(self, p):
        return True

    def _m_setWebhook(self, p):
        self.webhook = {"url": p.get("url", ""), "allowed_updates": p.get("allowed_updates"), "secret_token": p.get("secret_token", ""), "drop_pending_updates": p.get("drop_pending_updates")}
        return True

    def _m_deleteWebhook(self, p):
        self.webhook = {"url": ""}
        return True

    def _m_getWebhookInfo(self, p):
        info = {"url": self.webhook.get("url", ""), "has_custom_certificate": False, "pending_update_count": self.pending_update_count}
        if self.last_error_date:
            info["last_error_date"] = self.last_error_date
            info["last_error_message"] = "Connection refused"
        return info

    async def _m_getUpdates(self, p):
        offset = int(p.get("offset") or 0)
        if offset:
            self._confirmed = offset
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        timeout = min(float(p.get("timeout") or 0), 1.0)
        if not self._updates and timeout:
            self._new_update.clear()
            try:
                await asyncio.wait_for(self._new_update.wait(), timeout)
            except asyncio.TimeoutError:
                pass
        return list(self._updates)


async def _params(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        return dict(await request.json())
    form = await request.post()
    out: dict[str, Any] = {}
    for name, value in form.items():
        value = str(value)
        if name in _JSON_FIELDS:
            try:
                out[name] = json.loads(value)
                continue
            except ValueError:
                pass
        out[name] = value
    return out
