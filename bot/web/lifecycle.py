"""Graceful shutdown: what happens between SIGTERM and exit, inside a 10-second budget.

A rolling deploy or a node drain sends SIGTERM to a process that may be in
the middle of answering someone. The order matters, because each step needs
the ones after it still standing:

1. stop listening, so no new connection arrives (the load balancer has
   already stopped sending: Kubernetes' preStop waits for that);
2. aiohttp's shutdown signal: /readyz turns 503 ``shutting_down``, channels
   stop taking work (Telegram finishes the updates it has taken, the web chat
   closes its sockets);
3. requests already being handled get up to :data:`HANDLER_GRACE_SECONDS`
   to finish, so a message in flight still gets its reply;
4. the app's cleanup contexts close in reverse order: channels, then the
   runtime, whose callback dispatcher lets its current delivery attempt end
   (a request whose attempt is cut stays in the outbox and is retried by the
   next process), then the stores.

Everything together is bounded by :data:`SHUTDOWN_BUDGET_SECONDS`; past it
the process exits anyway, which loses nothing durable.
"""

from __future__ import annotations

import asyncio
import logging
import time

from aiohttp import web

log = logging.getLogger(__name__)

SHUTDOWN_BUDGET_SECONDS = 9.5
HANDLER_GRACE_SECONDS = 5.0


def make_runner(app: web.Application) -> web.AppRunner:
    """An AppRunner whose in-flight handlers get a bounded grace period; signals are ours."""
    return web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=HANDLER_GRACE_SECONDS)


async def graceful_stop(runner: web.AppRunner, budget: float = SHUTDOWN_BUDGET_SECONDS) -> bool:
    """Run the shutdown sequence; True if it finished inside ``budget``."""
    started = time.monotonic()
    log.info("shutting down: no new work, finishing what is in flight", extra={"event": "shutdown_started"})
    try:
        await asyncio.wait_for(runner.cleanup(), budget)
    except TimeoutError:
        log.error("shutdown overran its budget; exiting anyway (the outbox keeps undelivered requests)", extra={"event": "shutdown_overrun"})
        return False
    log.info("shut down cleanly", extra={"event": "shutdown_done", "seconds": round(time.monotonic() - started, 2)})
    return True
