"""Event-loop lag: how late the loop runs a timer that should have fired on time.

Every message, webhook and readiness answer shares one event loop. When
something blocks it (a slow synchronous call, a CPU-heavy step, a starved
container) every person talking to the bot waits, and nothing else shows it:
requests still succeed, just late. A timer that asks to wake after
``interval`` seconds and wakes later measures exactly that delay.

The gauge holds the worst lateness seen over the last ``window`` samples, not
just the last one, so a single stall is still visible at the next scrape.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from typing import AsyncIterator

from aiohttp import web

from bot.metrics import DEFAULT, Metrics

INTERVAL_SECONDS = 0.5
WINDOW = 20  # samples: the gauge shows the worst of the last ~10 seconds


async def measure_forever(interval: float = INTERVAL_SECONDS, window: int = WINDOW, metrics: Metrics = DEFAULT) -> None:
    loop = asyncio.get_running_loop()
    recent: deque[float] = deque(maxlen=window)
    while True:
        asked = loop.time()
        await asyncio.sleep(interval)
        recent.append(max(0.0, loop.time() - asked - interval))
        metrics.EVENT_LOOP_LAG.set(max(recent))


def loop_lag_ctx(metrics: Metrics = DEFAULT):
    """A cleanup_ctx entry: the sampler runs for the life of the app."""

    async def sampling(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(measure_forever(metrics=metrics), name="loop-lag")
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return sampling

