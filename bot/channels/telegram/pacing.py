"""Pacing sends under Telegram's limits: PTB's rate limiter, counting the 429s it meets.

Its own module so that building the application (:mod:`.app`) and sending
(:mod:`.send`) don't import each other.
"""

from __future__ import annotations

from typing import Any

from telegram.error import RetryAfter
from telegram.ext import AIORateLimiter

from bot.metrics import DEFAULT, Metrics


class CountingRateLimiter(AIORateLimiter):
    """PTB's rate limiter, counting each 429 it meets before it waits and retries."""

    def __init__(self, *args: Any, metrics: Metrics = DEFAULT, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.metrics = metrics

    async def process_request(self, callback, args, kwargs, endpoint, data, rate_limit_args):  # type: ignore[override]
        async def counted(*a: Any, **kw: Any):
            try:
                return await callback(*a, **kw)
            except RetryAfter:
                self.metrics.TELEGRAM_API_ERRORS.labels("retry_after").inc()
                raise

        return await super().process_request(counted, args, kwargs, endpoint, data, rate_limit_args)
