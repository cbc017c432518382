"""The aiohttp application: one server for the webhooks, the web chat and the on-call endpoints.

Built in one factory from a :class:`Runtime`. Each channel module names its
``CHANNEL`` and adds its own routes through ``setup(app, port)`` when its
configuration switches it on; it gets the channel's port
(bot/channels/port.py), never the runtime. The on-call endpoints (/healthz,
/readyz, /metrics) are always there. Background work (the idle reaper, the callback dispatcher, Telegram
polling) starts and stops with the app through ``cleanup_ctx``.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging

from aiohttp import web

from bot.runtime import Runtime
from bot.web.proxies import TrustedProxies
from bot.web.readiness import CHECKS, register_check

log = logging.getLogger(__name__)

RUNTIME = web.AppKey("runtime", Runtime)
REAP_INTERVAL_SECONDS = 30.0

# Channel modules, each with CHANNEL and setup(app, port) -> None; a module missing here is skipped.
CHANNEL_MODULES = ("bot.channels.webchat", "bot.channels.telegram", "bot.channels.twilio_sms", "bot.channels.notify_sms")
ONCALL_MODULES = ("bot.web.health",)


async def healthz(request: web.Request) -> web.Response:
    """Liveness only: the process answers. Readiness is /readyz."""
    return web.json_response({"status": "ok"})


def create_app(runtime: Runtime) -> web.Application:
    middlewares = [_errors_middleware]
    if runtime.settings.trusted_proxies:
        # Outermost, so every handler and middleware sees the real client's address.
        middlewares.insert(0, TrustedProxies(runtime.settings.trusted_proxies).middleware)
    app = web.Application(client_max_size=64 * 1024, middlewares=middlewares)
    app[RUNTIME] = runtime
    app[CHECKS] = []
    # First in, last out: the runtime (stores, callback dispatcher) starts before the
    # channels and closes after them, so work a channel finishes at shutdown still has them.
    app.cleanup_ctx.append(_background)
    app.router.add_get("/healthz", healthz)
    for name in ONCALL_MODULES:
        importlib.import_module(name).setup(app, runtime)
    for name in CHANNEL_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.setup(app, runtime.port(module.CHANNEL, lambda check: register_check(app, check)))
    return app


async def _background(app: web.Application):
    runtime = app[RUNTIME]
    await runtime.start()
    reaper = asyncio.create_task(_reap_forever(runtime), name="idle-reaper")
    yield
    reaper.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await reaper
    await runtime.close()


async def _reap_forever(runtime: Runtime) -> None:
    while True:
        await asyncio.sleep(REAP_INTERVAL_SECONDS)
        try:
            await runtime.gateway.reap_idle()
        except Exception:
            log.warning("idle sweep failed; will try again", extra={"event": "reap_failed"})


@web.middleware
async def _errors_middleware(request: web.Request, handler):
    """No stack trace ever reaches a client: unexpected errors become a plain 500 JSON body."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except Exception:
        log.exception("unhandled error in a request handler", extra={"event": "handler_error"})
        return web.json_response({"error": "internal error"}, status=500)
