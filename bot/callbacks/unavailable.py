"""The callback service when callbacks are configured but can't work here: no key to seal requests with.

In the embedded default the key is generated into the data folder; when that
folder is read-only, full or not a folder, no request could be kept safe, so
none is offered. Starting anyway matters more than callbacks: the bot must
still answer and give the number. So this stands in for the real service:

* ``available`` is False, so the flow hides the callback option;
* ``submit`` refuses (OutboxUnavailable), ``cancel`` says "delivered" (we can't
  promise a withdrawal, so the person is sent to the phone line), as the real
  service does when its outbox can't be reached;
* ``health`` reports the outbox not writable, so /readyz fails with
  ``outbox_down`` exactly as when the outbox can't be opened, and the on-call
  team is told. The key is read once at start: fix the folder and restart.
"""

from __future__ import annotations

import logging
from typing import Any, Sequence

from bot.callbacks.base import CancelResult, OutboxUnavailable, Sink
from bot.conversation.events import CallbackDetails

log = logging.getLogger(__name__)


class UnavailableCallbackService:
    available = False

    def __init__(self, sinks: Sequence[Sink], *, outbox: str, reason: str) -> None:
        self.sinks = list(sinks)
        self.outbox_kind = outbox
        self.unavailable_reason = reason  # read by the readiness check: configured, but down

    @property
    def sink_names(self) -> list[str]:
        return [s.name for s in self.sinks]

    async def submit(self, details: CallbackDetails) -> str:
        raise OutboxUnavailable("callback requests can't be kept: no key")

    async def cancel(self, request_id: str) -> CancelResult:
        return "delivered"

    async def start(self) -> None:
        """Nothing to start: there is no outbox this process can seal requests for."""

    async def stop(self) -> None:
        for sink in self.sinks:
            close = getattr(sink, "close", None)
            if close is not None:
                try:
                    await close()
                except Exception:
                    log.warning("a callback sink did not close cleanly", extra={"event": "sink_close_failed"})

    async def health(self) -> dict[str, Any]:
        return {
            "writable": False,
            "waiting": 0,
            "oldest_waiting_seconds": 0.0,
            "degraded": True,
            "sinks": self.sink_names,
            "outbox": self.outbox_kind,
            "dispatcher": "stopped",
            "reason": self.unavailable_reason,
        }
