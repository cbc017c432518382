"""The dispatcher: a background task that drains the outbox into every sink, until each has it.

Theory of operation:

* It claims a few rows (a lease, so no other replica takes them), opens each,
  and hands it to every sink that has not acknowledged it yet, all sinks at
  once, each under a time limit shorter than the lease.
* A sink that returns has the request: its name is kept with the row. When
  every configured sink has it, the row is deleted and a tombstone kept.
* Otherwise the row gets its next attempt after an exponential backoff with
  jitter (``base * 2**(attempts-1)``, capped, then a random half to full of
  that), so a sink coming back is not hit by every replica at the same
  instant, and the claim is dropped.
* The first pass after start ignores the backoff schedule: a restart tries
  what waits at once.
* When nothing is due it sleeps until the next row is, a poll interval (other
  replicas add rows too), or a local ``submit`` wakes it.
* The outbox itself failing (database down) is retried with the same backoff;
  nothing is lost, since every row stays until a sink has it.
* ``stop`` lets the attempt in hand end (up to a limit), then stops. A
  delivery cut short keeps its row and is tried again by whoever runs next;
  the receiver keeps one per id.

Logs carry sink names, error types and a short hash of the request id: never
the number, never an exception's text.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
import time
from typing import Callable, Sequence

from bot.metrics import DEFAULT, Metrics
from bot.callbacks.base import CallbackRequest, Sink
from bot.callbacks.encryption import RequestCipher, UnreadableRequest
from bot.callbacks.outbox import TOMBSTONE_SECONDS, Outbox, Stored, id_hash

log = logging.getLogger(__name__)


class Dispatcher:
    def __init__(
        self,
        outbox: Outbox,
        cipher: RequestCipher,
        sinks: Sequence[Sink],
        *,
        clock: Callable[[], float] = time.time,
        backoff_base: float = 2.0,
        backoff_cap: float = 60.0,
        lease: float = 60.0,
        attempt_timeout: float = 20.0,
        poll_interval: float = 5.0,
        batch: int = 8,
        on_pass: Callable[[], object] | None = None,
        metrics: Metrics = DEFAULT,
    ) -> None:
        self.metrics = metrics
        if attempt_timeout >= lease:
            raise ValueError("a delivery attempt must end before its lease does")
        self.outbox = outbox
        self.cipher = cipher
        self.sinks = list(sinks)
        self.clock = clock
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.lease = lease
        self.attempt_timeout = attempt_timeout
        self.poll_interval = poll_interval
        self.batch = batch
        self.owner = secrets.token_hex(8)
        self.on_pass = on_pass
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._next_purge = 0.0
        self.delivered = 0

    def backoff(self, attempts: int) -> float:
        delay = min(self.backoff_cap, self.backoff_base * 2 ** max(0, attempts - 1))
        return random.uniform(delay / 2, delay)

    def wake(self) -> None:
        self._wake.set()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self.run(), name="callback-dispatcher")

    async def stop(self, timeout: float = 3.0) -> None:
        """Let the current attempt end (up to ``timeout``), then stop."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        self._wake.set()
        done, _ = await asyncio.wait({task}, timeout=timeout)
        if not done:
            log.warning("callback delivery cut short by shutdown: it stays in the outbox", extra={"event": "dispatcher_cut"})
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def run(self) -> None:
        first = True
        failures = 0
        while not self._stopping:
            self._wake.clear()
            try:
                busy = await self.pass_once(due_only=not first)
                first = False
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the outbox is down: keep trying, nothing is lost
                failures += 1
                log.warning("callback outbox unavailable to the dispatcher", extra={"event": "outbox_error", "error": type(exc).__name__})
                await self._sleep(self.backoff(failures))
                continue
            if self.on_pass is not None:
                self.on_pass()
            if not busy:
                await self._sleep(await self._idle_seconds())

    async def pass_once(self, *, due_only: bool = True) -> bool:
        """Claim and attempt one batch; True if there was anything to do."""
        now = self.clock()
        if now >= self._next_purge:
            await self.outbox.purge_tombstones(now - TOMBSTONE_SECONDS)
            self._next_purge = now + 600
        rows = await self.outbox.claim(self.owner, now, self.lease, self.batch, due_only=due_only)
        for row in rows:
            if self._stopping:  # leave the rest claimed: the lease ends and they are retried
                break
            await self._attempt(row)
        await self.refresh_gauges()
        return bool(rows)

    async def refresh_gauges(self) -> tuple[int, float]:
        backlog = await self.outbox.backlog()
        oldest = max(0.0, self.clock() - backlog.oldest_created_at) if backlog.oldest_created_at is not None else 0.0
        self.metrics.CALLBACK_WAITING.set(backlog.waiting)
        self.metrics.CALLBACK_OLDEST_AGE.set(oldest)
        return backlog.waiting, oldest

    async def _attempt(self, row: Stored) -> None:
        ref = id_hash(row.id)[:12]
        try:
            details = self.cipher.open(row.payload)
        except UnreadableRequest:
            log.error("a callback request can't be opened with the configured keys: restore the key that sealed it", extra={"event": "callback_unreadable", "ref": ref})
            await self.outbox.release(row.id, self.owner, row.acked, row.attempts + 1, self.clock() + self.backoff_cap)
            return
        request = CallbackRequest(row.id, row.created_at, details)
        todo = [s for s in self.sinks if s.name not in row.acked]
        results = await asyncio.gather(*(self._one(s, request, ref) for s in todo))
        acked = row.acked | {s.name for s, ok in zip(todo, results) if ok}
        if all(s.name in acked for s in self.sinks):
            await self.outbox.complete(row.id, self.clock())
            self.delivered += 1
            self.metrics.CALLBACK_REQUESTS.labels("delivered").inc()
            log.info("callback request delivered", extra={"event": "callback_delivered", "ref": ref, "attempts": row.attempts + 1})
            return
        attempts = row.attempts + 1
        await self.outbox.release(row.id, self.owner, frozenset(acked), attempts, self.clock() + self.backoff(attempts))

    async def _one(self, sink: Sink, request: CallbackRequest, ref: str) -> bool:
        self.metrics.SINK_ATTEMPTS.labels(sink.name).inc()
        try:
            await asyncio.wait_for(sink.deliver(request), self.attempt_timeout)
            return True
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.metrics.SINK_FAILURES.labels(sink.name).inc()
            log.warning("callback sink failed; will retry", extra={"event": "sink_failed", "sink": sink.name, "error": type(exc).__name__, "ref": ref})
            return False

    async def _idle_seconds(self) -> float:
        due = await self.outbox.next_due()
        if due is None:
            return self.poll_interval
        return max(0.0, min(self.poll_interval, due - self.clock()))

    async def _sleep(self, seconds: float) -> None:
        if self._stopping:
            return
        try:
            await asyncio.wait_for(self._wake.wait(), max(0.0, seconds))
        except TimeoutError:
            pass
