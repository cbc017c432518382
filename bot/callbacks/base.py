"""The callback path's contracts: what the gateway asks of it, and what a sink must do.

``submit`` returns only once the request is durably written (encrypted) to the
outbox; only then may the bot tell the person it is with the team. Delivery
to the crisis team happens afterwards, in the dispatcher, with retries, to
every configured :class:`Sink`. A request is finished (and deleted) when every
configured sink has acknowledged it; each sink's acknowledgement is kept, so
a sink that already has a request is not sent it again when another is down.

Adding a sink is a matter of a class with a ``name`` and an async ``deliver``
that raises when the request did not arrive, registered in
:mod:`bot.callbacks.sinks`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

from bot.conversation.events import CallbackDetails

CancelResult = Literal["withdrawn", "delivered", "unknown"]


class OutboxUnavailable(RuntimeError):
    """The request could not be written durably: the user must be told plainly."""


@dataclass(frozen=True, slots=True)
class CallbackRequest:
    """One request as a sink receives it.

    ``id`` is the idempotency key: every attempt, on every sink, carries the
    same id, so a receiver that sees it twice keeps one. ``created_at`` is
    Unix seconds (UTC) when the person confirmed.
    """

    id: str
    created_at: float
    details: CallbackDetails


@runtime_checkable
class Sink(Protocol):
    """Somewhere the crisis team reads callback requests.

    ``name`` is short and fixed ("webhook", "email", "telegram"): it labels
    metrics, is kept beside a request once that sink has it, and shows in
    /readyz. ``deliver`` returns only when the sink has the request and raises
    anything otherwise; its exceptions must not carry the phone number (the
    dispatcher logs only their type). A sink may also have ``async close()``.
    """

    name: str

    async def deliver(self, request: CallbackRequest) -> None: ...


class CallbackService(Protocol):
    @property
    def available(self) -> bool:
        """True when at least one sink is configured; otherwise the flow offers only the number."""

    async def submit(self, details: CallbackDetails) -> str:
        """Write the request durably; return its id. Raises OutboxUnavailable."""

    async def cancel(self, request_id: str) -> CancelResult:
        """Withdraw a request not yet delivered."""


class ManagedCallbackService(CallbackService, Protocol):
    """What :func:`bot.callbacks.service.open_callback_service` returns beyond the gateway's needs."""

    async def start(self) -> None:
        """Start the dispatcher (it tries at once, so a restart delivers what waits)."""

    async def stop(self) -> None:
        """Let the current delivery attempt end, stop the dispatcher, close the outbox."""

    async def health(self) -> dict[str, Any]:
        """``writable``, ``waiting``, ``oldest_waiting_seconds``, ``degraded``, ``sinks`` (names)."""
