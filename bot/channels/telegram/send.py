"""Sending to Telegram: limits, retries, and giving up cleanly.

Three layers keep a reply going out without breaking Telegram's rules:

* PTB's :class:`~telegram.ext.AIORateLimiter` paces sends under Telegram's
  limits (30 messages a second overall, 20 a minute per group) and, when
  Telegram still answers 429, waits ``retry_after`` and tries again
  (:mod:`.pacing` counts those 429s).
* :class:`Sender` retries transient failures (a timeout, a network error, a
  5xx from the Bot API) a few times with a short backoff.
* When a send finally fails, it returns ``None`` and the caller carries on
  with what did go out: nothing raises into PTB, and the session keeps only
  the ids of messages that were really sent. A 403 means the person blocked
  the bot: :class:`Blocked` tells the channel to end their session.

Errors are counted in ``frontdoor_telegram_api_errors`` by kind. Logs carry
the kind and the method, never the chat, the text or the exception's message.
"""

from __future__ import annotations

import asyncio
import json
import logging
from functools import lru_cache
from typing import Any, Awaitable, Callable, Iterable, Protocol

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

from bot.conversation.events import Option, Reply
from bot.metrics import DEFAULT, Metrics

log = logging.getLogger(__name__)

DELETE_BATCH = 100  # deleteMessages takes at most 100 ids
CRISIS_LINE_E164 = "+443001312789"
_NO_PREVIEW = '{"is_disabled":true}'  # as Telegram reads it: PTB would rebuild and serialise LinkPreviewOptions every time


class Blocked(Exception):
    """The person has blocked the bot (403): stop sending and end their session."""


class TextBot(Protocol):
    """What the sender needs of the bot: PTB's methods plus ``send_text`` (:class:`.app.FrontdoorBot`)."""

    async def send_text(self, chat_id: int, text: str, *, reply_markup: str | None = None, link_preview_options: str | None = None) -> int: ...

    async def send_contact(self, chat_id: int, phone_number: str, first_name: str) -> Any: ...

    async def answer_callback_query(self, callback_query_id: str) -> Any: ...

    async def delete_messages(self, chat_id: int, message_ids: list[int]) -> Any: ...

    async def delete_message(self, chat_id: int, message_id: int) -> Any: ...


def error_kind(exc: BaseException) -> str:
    """The label for ``frontdoor_telegram_api_errors``. BadRequest is a NetworkError in PTB: test it first."""
    if isinstance(exc, RetryAfter):
        return "retry_after"
    if isinstance(exc, Forbidden):
        return "forbidden"
    if isinstance(exc, BadRequest):
        return "bad_request"
    if isinstance(exc, (TimedOut, NetworkError)):
        return "network"
    return "other"


@lru_cache(maxsize=512)
def _keyboard(options: tuple[Option, ...]) -> str:
    """The inline keyboard as the JSON Telegram reads, built once per set of options.

    The engine reuses a handful of option sets; PTB would otherwise build and
    serialise the same InlineKeyboardMarkup for every message.
    """
    markup = InlineKeyboardMarkup([[InlineKeyboardButton(o.label, callback_data=o.id)] for o in options])
    return json.dumps(markup.to_dict(), ensure_ascii=False, separators=(",", ":"))


def keyboard(reply: Reply) -> str | None:
    """One button per row: labels are sentences, and full-width buttons are easy to hit."""
    return _keyboard(reply.options) if reply.options else None


class Sender:
    """Sends replies, contact cards and deletions for one bot, with retries."""

    def __init__(
        self, bot: TextBot, *, attempts: int = 3, backoff: float = 0.5, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep, metrics: Metrics = DEFAULT
    ) -> None:
        self.bot = bot
        self.metrics = metrics
        self.attempts = attempts
        self.backoff = backoff
        self._sleep = sleep

    async def reply(self, chat_id: int, reply: Reply, markup: InlineKeyboardMarkup | None = None) -> int | None:
        """Send one reply; its options become inline buttons. Returns the message id, or None."""
        buttons = json.dumps(markup.to_dict()) if markup is not None else keyboard(reply)
        return await self._call(
            "sendMessage",
            lambda: self.bot.send_text(chat_id, reply.text, reply_markup=buttons, link_preview_options=_NO_PREVIEW),
        )

    async def contact_card(self, chat_id: int, name: str) -> int | None:
        """The crisis line as a contact card, so it can be saved under a discreet name."""
        message = await self._call("sendContact", lambda: self.bot.send_contact(chat_id, CRISIS_LINE_E164, name))
        return None if message is None else message.message_id

    async def answer_button(self, query_id: str) -> None:
        """Stop the button's spinner. Failing this is harmless, so it is tried once."""
        await self._call("answerCallbackQuery", lambda: self.bot.answer_callback_query(query_id), attempts=1)

    async def delete(self, chat_id: int, message_ids: Iterable[int]) -> int:
        """Delete what Telegram allows, 100 at a time. Returns how many messages were not deleted.

        Telegram skips ids it can't find; if it refuses a batch outright (one
        message it won't delete, such as one older than 48 hours), the batch is
        tried one message at a time so the rest still go.
        """
        ids = sorted({int(i) for i in message_ids if int(i) > 0})
        failed = 0
        for start in range(0, len(ids), DELETE_BATCH):
            batch = ids[start : start + DELETE_BATCH]
            try:
                done = await self._call("deleteMessages", lambda b=batch: self.bot.delete_messages(chat_id, b), bad_request_raises=True)
            except BadRequest:
                done = None
                if len(batch) > 1:
                    for one in batch:
                        if not await self._call("deleteMessage", lambda m=one: self.bot.delete_message(chat_id, m), attempts=1):
                            failed += 1
                    continue
            if not done:
                failed += len(batch)
        return failed

    async def _call(self, method: str, make: Callable[[], Awaitable[Any]], *, attempts: int | None = None, bad_request_raises: bool = False) -> Any:
        tries = attempts or self.attempts
        for attempt in range(1, tries + 1):
            try:
                return await make()
            except Forbidden as exc:
                self._count(method, exc)
                raise Blocked(method) from None
            except RetryAfter:
                # The limiter has already waited out and retried (and counted) each 429: stop here.
                log.warning("telegram kept answering 429; gave up", extra={"event": "telegram_gave_up", "method": method})
                return None
            except BadRequest as exc:
                self._count(method, exc)  # won't get better by asking again
                if bad_request_raises:
                    raise
                return None
            except (TimedOut, NetworkError) as exc:
                self._count(method, exc)
                if attempt < tries:
                    await self._sleep(self.backoff * 2 ** (attempt - 1))
            except TelegramError as exc:
                self._count(method, exc)
                return None
        log.warning("telegram call gave up after retries", extra={"event": "telegram_gave_up", "method": method, "attempts": tries})
        return None

    def _count(self, method: str, exc: BaseException) -> None:
        kind = error_kind(exc)
        self.metrics.TELEGRAM_API_ERRORS.labels(kind).inc()
        log.info("telegram call failed", extra={"event": "telegram_error", "method": method, "kind": kind})
