"""Callback sink: post each callback request to the crisis team's staff Telegram chat.

Switched on by FRONTDOOR_TELEGRAM_STAFF_CHAT_ID together with
FRONTDOOR_TELEGRAM_TOKEN: the requests go through the same bot people talk
to, so the team needs no other integration. The staff chat must be a private
group the team controls, with the bot added to it; the bot ignores everything
said there.

The dispatcher calls :meth:`TelegramStaffSink.deliver` and treats any
exception as "not delivered, try again later"; the request stays encrypted in
the outbox until this returns. The message is sent with ``protect_content``
so it can't be forwarded or saved out of the chat, and it holds only what the
team needs to call back (number, when, voicemail, whether to say who is
calling), never anything the person wrote. Exceptions raised here carry the
Bot API's description or an error type, never the number.

This sink has its own small :class:`telegram.Bot` (no rate limiter, no
updates): it runs in the callback dispatcher, which may start before the
Telegram channel and must keep working if the channel is restarting.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any

from telegram import Bot, LinkPreviewOptions
from telegram.request import HTTPXRequest

from bot.config import Settings
from bot.conversation.phone import format_national

log = logging.getLogger(__name__)


class TelegramStaffSink:
    """Posts a callback request to the staff chat. ``deliver`` raises if it was not posted."""

    name = "telegram"

    def __init__(self, token: str, chat_id: str, api_url: str = "https://api.telegram.org", *, bot: Bot | None = None) -> None:
        root = api_url.rstrip("/")
        self.chat_id = int(chat_id) if chat_id.lstrip("-").isdigit() else chat_id  # numeric id or @channelname
        self.bot = bot or Bot(
            token,
            base_url=f"{root}/bot",
            base_file_url=f"{root}/file/bot",
            request=HTTPXRequest(connection_pool_size=4, connect_timeout=5.0, read_timeout=15.0, write_timeout=15.0),
        )
        self._ready = False

    @classmethod
    def from_settings(cls, settings: Settings) -> "TelegramStaffSink | None":
        """The sink if both the token and the staff chat are set, else None."""
        if not (settings.telegram_token and settings.telegram_staff_chat_id):
            return None
        return cls(settings.telegram_token, settings.telegram_staff_chat_id, settings.telegram_api_url)

    async def deliver(self, request: Any) -> None:
        if not self._ready:
            await self.bot.initialize()
            self._ready = True
        await self.bot.send_message(
            self.chat_id,
            staff_message(request),
            protect_content=True,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        )

    async def close(self) -> None:
        if self._ready:
            await self.bot.shutdown()
            self._ready = False


def staff_message(request: Any) -> str:
    """The team's message: plain text, English, only what a call back needs.

    ``request`` is the outbox's record: its ``details`` (a
    :class:`~bot.conversation.events.CallbackDetails`) or the details themselves,
    and, where present, an ``id`` and a creation time (``created_at``, epoch seconds).
    """
    d = getattr(request, "details", request)
    lines = ["New call back request"]
    request_id = getattr(request, "id", "") or getattr(request, "request_id", "")
    if request_id:
        lines[0] += f" (ref {request_id})"
    lines += [
        f"Number: {format_national(d.phone)} ({d.phone})",
        f"When: {d.window}",
        f"Voicemail OK: {'yes' if d.voicemail_ok else 'no'}",
        f"Say they are from the crisis line: {'yes' if d.say_who_is_calling else 'no'}",
        f"Came in by: {d.channel}",
    ]
    if getattr(d, "name", None):
        lines.append(f"Name given: {d.name}")
    created = getattr(request, "created_at", None)
    if isinstance(created, (int, float)):
        lines.append("Requested: " + datetime.fromtimestamp(created, timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
    return "\n".join(lines)
