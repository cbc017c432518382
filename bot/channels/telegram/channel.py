"""The Telegram channel: ``setup(app, runtime)`` and the channel's life from start to stop.

Switched on by FRONTDOOR_TELEGRAM_TOKEN. Two ways in:

* **webhook** (FRONTDOOR_TELEGRAM_WEBHOOK_URL set): Telegram POSTs updates to
  ``/telegram/webhook`` on our own aiohttp server; at start the bot registers
  that URL with the secret and only the update types it handles.
* **long polling** (token, no webhook URL): the bot asks Telegram for
  updates itself, so anyone can try it without a public address.

Either way nothing that arrived while the bot was down is dropped
(``drop_pending_updates`` is never set) and the webhook is left in place at
shutdown, so Telegram keeps updates for the next start.

The pieces, one module each in this package: :mod:`.app` (PTB application),
:mod:`.order` (per-chat order), :mod:`.webhook` (the route), :mod:`.inbound`
and :mod:`.adapter` (translation), :mod:`.send` (limits, retries),
:mod:`.pacing` (PTB's rate limiter, counted), :mod:`.request` (PTB's
transport on aiohttp), :mod:`.health` (readiness). The ids kept for "delete
this conversation" after an end come through the port
(:mod:`bot.stores.clear_records`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import web

from bot.channels.port import ChannelPort, ClearRecords
from bot.channels.telegram.adapter import TelegramAdapter
from bot.channels.telegram.app import ALLOWED_UPDATES, POLL_TIMEOUT_SECONDS, add_handler, build_application, polling_request_for
from bot.channels.telegram.health import TelegramHealth
from bot.channels.telegram.inbound import TG
from bot.channels.telegram.send import Sender
from bot.channels.telegram.webhook import PATH as WEBHOOK_PATH
from bot.channels.telegram.webhook import make_handler

log = logging.getLogger(__name__)

CHANNEL = TG
START_BACKOFF = (1.0, 2.0, 5.0, 10.0, 30.0)
TELEGRAM = web.AppKey("telegram_channel", object)


class TelegramChannel:
    """Owns the PTB application and everything around it for one process."""

    def __init__(
        self,
        port: ChannelPort,
        *,
        records: ClearRecords | None = None,
        overall_max_rate: float = 30,
        retry_backoff: float = 0.5,
        start_backoff: tuple[float, ...] = START_BACKOFF,
    ) -> None:
        settings = port.settings
        self.port = port
        self.settings = settings
        self.records = records or port.records
        # One process remembers recent update ids itself; replicas sharing Redis also ask each other.
        seen = port.seen_once if settings.redis_url else None
        polling_request = polling_request_for() if settings.telegram_polling else None
        self.application = build_application(settings, overall_max_rate=overall_max_rate, seen=seen, polling_request=polling_request, metrics=port.metrics)
        self.sender = Sender(self.application.bot, backoff=retry_backoff, metrics=port.metrics)
        self.adapter = TelegramAdapter(port, self.sender, self.records)
        add_handler(self.application, self.adapter.on_update)
        self.application.add_error_handler(_on_error)
        self.health = TelegramHealth(
            self.application.bot,
            settings.telegram_webhook_url,
            polling_request=polling_request,
            updater=self.application.updater,
        )
        self.start_backoff = start_backoff
        self.ready = False
        self._stopped = False
        self._tasks: list[asyncio.Task] = []

    @property
    def polling(self) -> bool:
        return self.settings.telegram_polling

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Reach Telegram (retrying until it answers), then start taking updates."""
        for attempt in range(1_000_000):
            try:
                await self._start_once()
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                delay = self.start_backoff[min(attempt, len(self.start_backoff) - 1)]
                log.warning("telegram did not start; will try again", extra={"event": "telegram_start_failed", "error": type(exc).__name__, "retry_in": delay})
                await asyncio.sleep(delay)

    async def _start_once(self) -> None:
        app = self.application
        await app.initialize()  # idempotent; after a failed attempt it tries getMe again
        self.adapter.username = app.bot.username or ""
        if not app.running:
            await app.start()
        if self.polling:
            assert app.updater is not None
            if not app.updater.running:
                await app.updater.start_polling(
                    timeout=POLL_TIMEOUT_SECONDS,
                    allowed_updates=list(ALLOWED_UPDATES),
                    drop_pending_updates=False,
                    error_callback=_on_polling_error,
                )
        else:
            await app.bot.set_webhook(
                url=self.settings.telegram_webhook_url,
                secret_token=self.settings.telegram_webhook_secret,
                allowed_updates=list(ALLOWED_UPDATES),
                drop_pending_updates=False,
            )
            await self.health.refresh()
        self.ready = True
        self.health.mark_started()
        log.info("telegram channel started", extra={"event": "telegram_started", "mode": "polling" if self.polling else "webhook"})

    async def stop(self) -> None:
        """Finish the updates already taken, then close. The webhook stays registered.

        Runs on aiohttp's shutdown signal, before the runtime closes the stores the
        queued updates still need; again (a no-op) from the cleanup context.
        """
        self.ready = False  # from now on the webhook answers 503 and Telegram keeps the update
        if self._stopped:
            return
        self._stopped = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        app = self.application
        with contextlib.suppress(Exception):
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
        with contextlib.suppress(Exception):
            if app.running:
                await app.stop()
        with contextlib.suppress(Exception):
            await app.shutdown()

    async def lifespan(self, _app: web.Application):
        """aiohttp cleanup_ctx: start in the background so the server is up at once."""
        self._tasks.append(asyncio.create_task(self._run(), name="telegram-channel"))
        yield
        await self.stop()

    async def _run(self) -> None:
        await self.start()
        await self.health.run()


def setup(app: web.Application, port: ChannelPort) -> None:
    """Add the Telegram channel if FRONTDOOR_TELEGRAM_TOKEN is set; otherwise do nothing."""
    if not port.settings.telegram_enabled:
        return
    install(app, port, TelegramChannel(port))


def install(app: web.Application, port: ChannelPort, channel: TelegramChannel) -> None:
    """Wire a built channel into the app (tests and the bench build it with their own options)."""
    app[TELEGRAM] = channel
    if not channel.polling:
        handler = make_handler(channel.application, port.settings.telegram_webhook_secret, lambda: channel.ready, port.metrics)
        app.router.add_post(WEBHOOK_PATH, handler)
    port.on_idle(channel.adapter.on_idle)
    port.add_check(channel.health.check)
    app.cleanup_ctx.append(channel.lifespan)
    app.on_shutdown.append(lambda _app: channel.stop())


async def _on_error(update: object, context) -> None:
    """PTB's error hook: a line with the error's type, never the update (it holds the message)."""
    log.error("telegram handler error", extra={"event": "telegram_error", "error": type(context.error).__name__})


def _on_polling_error(exc: Exception) -> None:
    log.warning("telegram polling error; PTB retries", extra={"event": "telegram_polling_error", "error": type(exc).__name__})
