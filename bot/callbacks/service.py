"""The callback service: what the gateway and the runtime call. Built from Settings by one factory.

``submit`` seals the request and writes it to the outbox, returning only once
the write is durable; any failure (disk full, read-only folder, database
down, too slow) is :class:`OutboxUnavailable`, so nothing tells a person
their request is with the team when it is not. The dispatcher then delivers
it in the background to every configured sink.

``cancel`` withdraws a request only if no sink has it and no dispatcher is
handing it over at that moment ("Nothing was passed on" must be true); if a
delivery is in flight it waits a moment for the outcome, and if that doesn't
settle in time it answers "delivered", which sends the person to the phone
line to withdraw: the honest answer when the team may already have it.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Any, Callable, Sequence

from cryptography.fernet import Fernet

from bot.callbacks.base import CancelResult, OutboxUnavailable, Sink
from bot.callbacks.dispatcher import Dispatcher
from bot.callbacks.encryption import KeyUnavailable, RequestCipher, UnreadableRequest, cipher_from_settings
from bot.callbacks.outbox import Outbox
from bot.callbacks.outbox_postgres import PostgresOutbox
from bot.callbacks.outbox_sqlite import SQLiteOutbox
from bot.callbacks.sinks import sinks_from_settings
from bot.callbacks.unavailable import UnavailableCallbackService
from bot.config import Settings
from bot.conversation.events import CallbackDetails

log = logging.getLogger(__name__)

WRITE_FAILURE_MEMORY_SECONDS = 30.0


class OutboxCallbackService:
    """The real callback service: an outbox, a cipher, sinks and a dispatcher.

    Tests build it directly to set fast backoff; everything else uses
    :func:`open_callback_service`.
    """

    def __init__(
        self,
        outbox: Outbox,
        cipher: RequestCipher,
        sinks: Sequence[Sink],
        *,
        alert_seconds: float = 300.0,
        submit_timeout: float = 5.0,
        cancel_wait: float = 3.0,
        stop_timeout: float = 2.5,
        clock: Callable[[], float] = time.time,
        **dispatcher_options: Any,
    ) -> None:
        self.outbox = outbox
        self.cipher = cipher
        self.sinks = list(sinks)
        self.alert_seconds = alert_seconds
        self.submit_timeout = submit_timeout
        self.cancel_wait = cancel_wait
        self.stop_timeout = stop_timeout
        self.clock = clock
        self.dispatcher = Dispatcher(outbox, cipher, self.sinks, clock=clock, **dispatcher_options)
        self._write_failed_at: float | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.take_back_interval = 1.0

    @property
    def available(self) -> bool:
        return bool(self.sinks)

    @property
    def sink_names(self) -> list[str]:
        return [s.name for s in self.sinks]

    async def submit(self, details: CallbackDetails) -> str:
        if not self.sinks:
            raise OutboxUnavailable("no callback sink is configured")
        request_id = str(uuid.uuid4())
        sealed = self.cipher.seal(details)
        try:
            await asyncio.wait_for(self.outbox.add(request_id, self.clock(), sealed), self.submit_timeout)
        except Exception as exc:
            self._write_failed_at = time.monotonic()
            log.error("callback request not stored", extra={"event": "outbox_write_failed", "error": type(exc).__name__})
            if isinstance(exc, TimeoutError):  # the write may still land after we gave up: take it back
                self._background(self._take_back(request_id))
            raise OutboxUnavailable("the callback request could not be stored") from None
        self._write_failed_at = None
        self.dispatcher.wake()
        return request_id

    async def _take_back(self, request_id: str) -> None:
        """The person was told it failed, so a write that lands late must not be delivered."""
        for _ in range(5):
            try:
                if await asyncio.wait_for(self.outbox.withdraw(request_id, self.clock()), self.submit_timeout) in ("withdrawn", "delivered"):
                    return
            except Exception:
                pass
            await asyncio.sleep(self.take_back_interval)

    def _background(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def cancel(self, request_id: str) -> CancelResult:
        deadline = time.monotonic() + self.cancel_wait
        while True:
            try:
                result = await asyncio.wait_for(self.outbox.withdraw(request_id, self.clock()), self.submit_timeout)
            except Exception as exc:
                # Can't reach the outbox: we can't promise it was withdrawn; the number is the way.
                log.error("callback withdrawal failed", extra={"event": "outbox_withdraw_failed", "error": type(exc).__name__})
                return "delivered"
            if result != "claimed":
                return result
            if time.monotonic() >= deadline:
                return "delivered"  # being handed over now: the team may have it
            await asyncio.sleep(0.05)

    async def start(self) -> None:
        """Rotate waiting requests to the newest key, then start the dispatcher (it tries at once)."""
        if not self.sinks:
            return
        try:
            await self.outbox.open()
            await self._rotate()
        except Exception as exc:  # the dispatcher keeps trying; readiness shows the outbox down
            log.warning("callback outbox not available at start", extra={"event": "outbox_open_failed", "error": type(exc).__name__})
        self.dispatcher.start()

    async def stop(self) -> None:
        """Bounded to about ``stop_timeout`` + 1.5 s, inside the process's 10-second shutdown."""
        await self.dispatcher.stop(self.stop_timeout)
        for task in list(self._tasks):
            task.cancel()
        closing = [close() for sink in self.sinks if (close := getattr(sink, "close", None)) is not None]
        if closing:
            try:
                done = await asyncio.wait_for(asyncio.gather(*closing, return_exceptions=True), 0.5)
            except TimeoutError:
                done = None
            if done is None or any(isinstance(x, Exception) for x in done):
                log.warning("a callback sink did not close cleanly", extra={"event": "sink_close_failed"})
        try:
            await asyncio.wait_for(self.outbox.close(), 1.0)
        except Exception as exc:
            log.warning("callback outbox did not close cleanly", extra={"event": "outbox_close_failed", "error": type(exc).__name__})

    async def health(self) -> dict[str, Any]:
        """A small dict for /readyz: no URL, no secret, no number."""
        writable = True
        waiting, oldest = 0, 0.0
        try:
            await asyncio.wait_for(self.outbox.probe(), self.submit_timeout)
            waiting, oldest = await asyncio.wait_for(self.dispatcher.refresh_gauges(), self.submit_timeout)
        except Exception as exc:
            writable = False
            log.warning("callback outbox health check failed", extra={"event": "outbox_probe_failed", "error": type(exc).__name__})
        if self._write_failed_at is not None and time.monotonic() - self._write_failed_at < WRITE_FAILURE_MEMORY_SECONDS:
            writable = False
        return {
            "writable": writable,
            "waiting": waiting,
            "oldest_waiting_seconds": round(oldest, 1),
            "degraded": (not writable) or oldest > self.alert_seconds,
            "sinks": self.sink_names,
            "outbox": self.outbox.kind,
            "dispatcher": "running" if self.dispatcher.running else "stopped",
        }

    async def _rotate(self) -> None:
        if self.cipher.key_count < 2:
            return
        for request_id, token in await self.outbox.all_payloads():
            if self.cipher.is_newest(token):
                continue
            try:
                await self.outbox.reseal(request_id, token, self.cipher.rotate(token))
            except UnreadableRequest:
                pass  # the dispatcher logs it when it tries


def outbox_from_settings(settings: Settings) -> Outbox:
    if settings.outbox_url:
        return PostgresOutbox(settings.outbox_url)
    return SQLiteOutbox.in_folder(settings.data_dir)


async def open_callback_service(
    settings: Settings, *, sinks: Sequence[Sink] | None = None, **options: Any
) -> OutboxCallbackService | UnavailableCallbackService:
    """The callback service this configuration asks for. Call ``start()`` to begin delivering.

    It does not connect yet: an outbox that is down at start shows as not
    writable in ``health()`` and is retried, rather than stopping the bot
    from giving people the number. ``sinks`` overrides the configured ones (tests).
    Raises ConfigError for a bad or missing encryption key. A key file that
    can't be made or read (the data folder read-only, full, not a folder) is
    not a reason to stop giving people the number: the service is then
    :class:`UnavailableCallbackService`, with the option hidden and readiness down.
    """
    sinks = sinks_from_settings(settings) if sinks is None else list(sinks)
    if sinks:
        try:
            cipher = cipher_from_settings(settings, shared_outbox=bool(settings.outbox_url))
        except KeyUnavailable as exc:
            log.error(
                "the callback key in the data folder can't be made or read: the callback option is hidden until it can and the bot restarts",
                extra={"event": "callback_key_unavailable", "reason": exc.reason},
            )
            kind = PostgresOutbox.kind if settings.outbox_url else SQLiteOutbox.kind
            return UnavailableCallbackService(sinks, outbox=kind, reason="key_unavailable")
    else:  # nothing will be sealed: don't generate or demand a key for a hidden option
        cipher = RequestCipher([Fernet.generate_key()])
    options.setdefault("alert_seconds", settings.callback_alert_seconds)
    return OutboxCallbackService(outbox_from_settings(settings), cipher, sinks, **options)
