"""Building PTB's :class:`~telegram.ext.Application` the way Frontdoor needs it.

PTB is used for what it does well (the Bot API client, typed updates,
pacing under Telegram's limits, long polling) and not for state: no
ConversationHandler, no persistence, no job queue. The conversation lives in
our engine and stores, so any replica can take any update.

* ``base_url`` comes from FRONTDOOR_TELEGRAM_API_URL, so a local Bot API
  server or the tests' fake can stand in for api.telegram.org.
* :class:`ChatOrderedProcessor` keeps each chat's updates in order while
  chats run side by side.
* :class:`CountingRateLimiter` paces sends and retries 429s after
  ``retry_after``.
* Calls go through :class:`AiohttpRequest` (PTB over aiohttp; HTTPX was the
  bottleneck, see bench/telegram_webhook.py).
* In polling mode, getUpdates goes through :class:`TrackedRequest`, which
  notes when a poll last succeeded, for readiness.
"""

from __future__ import annotations

import time
from typing import Any

from telegram import Update
from telegram.ext import Application, ExtBot, TypeHandler

from bot.channels.telegram.order import ChatOrderedProcessor, SeenFn
from bot.channels.telegram.request import AiohttpRequest
from bot.channels.telegram.pacing import CountingRateLimiter
from bot.config import Settings
from bot.metrics import DEFAULT, Metrics

# Only what the adapter handles: no edits, no channel posts, no inline queries.
# my_chat_member is here so a person who blocks the bot ends their session.
ALLOWED_UPDATES = ("message", "callback_query", "my_chat_member")
POLL_TIMEOUT_SECONDS = 10
RATE_LIMIT_RETRIES = 3


class TrackedRequest(AiohttpRequest):
    """The request for getUpdates, remembering when a poll last came back well."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.last_ok = 0.0

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        code, payload = await super().do_request(*args, **kwargs)
        if 200 <= code < 300:
            self.last_ok = time.time()
        return code, payload


def polling_request_for() -> TrackedRequest:
    return TrackedRequest(connection_pool_size=1, read_timeout=POLL_TIMEOUT_SECONDS + 10.0, connect_timeout=5.0)


class FrontdoorBot(ExtBot):
    """PTB's ExtBot with one addition: sending a text and getting back only its message id.

    ``send_message`` turns Telegram's answer into a full :class:`~telegram.Message`
    (about 200 microseconds of parsing here, a fifth of an update's whole cost in
    bench/telegram_webhook.py) when all we keep is the id. :meth:`send_text` posts
    through the same ``_post`` every PTB method uses (defaults, the rate limiter, the
    request, error mapping) and reads the id from the JSON. ``_post`` is PTB's
    protected core; the tests run against the real library, so a change to it in a
    new PTB fails them rather than production.
    """

    async def send_text(self, chat_id: int, text: str, *, reply_markup: str | None = None, link_preview_options: str | None = None) -> int:
        """sendMessage; ``reply_markup`` and ``link_preview_options`` as JSON text, which PTB
        passes through as it is (a form field is text either way)."""
        data: dict[str, Any] = {"chat_id": chat_id, "text": text}
        if reply_markup is not None:
            data["reply_markup"] = reply_markup
        if link_preview_options is not None:
            data["link_preview_options"] = link_preview_options
        result = await self._post("sendMessage", data)
        return int(result["message_id"])


def build_application(
    settings: Settings,
    *,
    overall_max_rate: float = 30,
    seen: SeenFn | None = None,
    max_running: int = 64,
    polling_request: TrackedRequest | None = None,
    metrics: Metrics = DEFAULT,
) -> Application:
    """The PTB application for ``settings`` (webhook mode if a webhook URL is set, else polling)."""
    root = settings.telegram_api_url.rstrip("/")
    bot = FrontdoorBot(
        settings.telegram_token,
        base_url=f"{root}/bot",
        base_file_url=f"{root}/file/bot",
        request=AiohttpRequest(connection_pool_size=128, connect_timeout=5.0, read_timeout=10.0, write_timeout=10.0, pool_timeout=5.0),
        get_updates_request=(polling_request or polling_request_for()) if settings.telegram_polling else None,
        rate_limiter=CountingRateLimiter(overall_max_rate=overall_max_rate, max_retries=RATE_LIMIT_RETRIES, metrics=metrics),
    )
    builder = (
        Application.builder()
        .bot(bot)
        .concurrent_updates(ChatOrderedProcessor(max_running=max_running, seen=seen))
        .job_queue(None)
        .persistence(None)
    )
    if not settings.telegram_polling:
        builder = builder.updater(None)  # updates come through our own aiohttp route
    return builder.build()


def add_handler(application: Application, callback) -> None:
    """One handler for every update: the adapter does its own, cheap, dispatch."""
    application.add_handler(TypeHandler(Update, callback))
