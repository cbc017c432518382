"""Readiness for Telegram: is the bot actually being sent its updates?

Webhook mode asks Telegram (getWebhookInfo) once a minute, not on every
/readyz, and reports what the on-call engineer needs: updates waiting at
Telegram, how long ago Telegram last failed to deliver one, and whether the
webhook still points at us. Polling mode reports whether the long poll is
alive (a getUpdates came back recently).

``ok`` is False only when the bot cannot be reached by Telegram at all
(not started, webhook pointing elsewhere, Telegram unreachable for a few
minutes, polling stopped). A backlog or a recent delivery error is
"degraded" but still ok: every replica sees the same webhook info, and
taking them all out of the load balancer would turn a hiccup into an outage.
Nothing here carries the token, the URL or a person.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Callable

from telegram import Bot, WebhookInfo

from bot.channels.telegram.app import POLL_TIMEOUT_SECONDS, TrackedRequest
from bot.checks import Check

log = logging.getLogger(__name__)

CHECK_NAME = "telegram_webhook"
POLL_EVERY_SECONDS = 60.0
STALE_AFTER_SECONDS = 180.0  # no answer from getWebhookInfo for this long: down
RECENT_ERROR_SECONDS = 300.0
BACKLOG = 100


class TelegramHealth:
    def __init__(self, bot: Bot, webhook_url: str, *, polling_request: TrackedRequest | None = None, updater=None, clock: Callable[[], float] = time.time) -> None:
        self.bot = bot
        self.webhook_url = webhook_url
        self.polling_request = polling_request
        self.updater = updater
        self.clock = clock
        self.started = False
        self.info: WebhookInfo | None = None
        self.info_at = 0.0
        self.started_at = 0.0

    @property
    def polling(self) -> bool:
        return not self.webhook_url

    def mark_started(self) -> None:
        self.started = True
        self.started_at = self.clock()

    async def refresh(self) -> None:
        try:
            self.info = await self.bot.get_webhook_info()
            self.info_at = self.clock()
        except Exception as exc:
            log.warning("getWebhookInfo failed", extra={"event": "telegram_webhook_info_failed", "error": type(exc).__name__})

    async def run(self, every: float = POLL_EVERY_SECONDS) -> None:
        while True:
            await asyncio.sleep(every)
            if not self.polling:
                await self.refresh()

    async def check(self) -> Check:
        now = self.clock()
        if not self.started:
            return Check(CHECK_NAME, False, "starting", {"mode": "polling" if self.polling else "webhook"})
        if self.polling:
            return self._polling_check(now)
        if self.info is None or now - self.info_at > STALE_AFTER_SECONDS:
            age = round(now - self.info_at) if self.info is not None else -1
            return Check(CHECK_NAME, False, "down", {"mode": "webhook", "info_age_seconds": age})
        info = self.info
        error_age = round(now - info.last_error_date.timestamp()) if info.last_error_date else -1
        detail: dict[str, float | int | str | bool] = {
            "mode": "webhook",
            "pending_updates": info.pending_update_count,
            "last_error_age_seconds": error_age,
            "webhook_is_ours": info.url == self.webhook_url,
            "info_age_seconds": round(now - self.info_at),
        }
        if info.url != self.webhook_url:
            return Check(CHECK_NAME, False, "down", detail)
        if info.pending_update_count > BACKLOG or 0 <= error_age < RECENT_ERROR_SECONDS:
            return Check(CHECK_NAME, True, "degraded", detail)
        return Check(CHECK_NAME, True, "ok", detail)

    def _polling_check(self, now: float) -> Check:
        running = bool(self.updater is not None and self.updater.running)
        last_ok = self.polling_request.last_ok if self.polling_request is not None else 0.0
        since = last_ok or self.started_at
        age = round(now - since)
        alive = running and age <= POLL_TIMEOUT_SECONDS + STALE_AFTER_SECONDS
        return Check(CHECK_NAME, alive, "ok" if alive else "down", {"mode": "polling", "polling": running, "last_poll_age_seconds": age})
