"""The outbox: where a confirmed callback request waits, encrypted, until every sink has it.

Two backends keep the same table shape and answer the same calls:
:class:`~bot.callbacks.outbox_sqlite.SQLiteOutbox` (the embedded default, a
file in the data folder) and :class:`~bot.callbacks.outbox_postgres.PostgresOutbox`
(several replicas sharing one outbox).

A row holds the request id, when it was made, the sealed request (a Fernet
token), the names of the sinks that already acknowledged it, how many
attempts were made, when the next one is due, and a claim: ``claim_owner``
and ``claimed_until``. A dispatcher claims rows before it delivers them and
holds the claim for at most a lease, so two replicas never deliver one
request at once, and a replica killed mid-delivery only delays the request
by the lease. A finished request is deleted; only a tombstone is kept, the
SHA-256 of its id and when it went out, so "withdraw" can still answer
"delivered" for a day. Nothing here holds a phone number in the clear.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal, Protocol

TOMBSTONE_SECONDS = 86400

WithdrawResult = Literal["withdrawn", "delivered", "claimed", "unknown"]


@dataclass(frozen=True, slots=True)
class Stored:
    """One claimed row, still sealed."""

    id: str
    created_at: float
    payload: bytes
    acked: frozenset[str]
    attempts: int


@dataclass(frozen=True, slots=True)
class Backlog:
    waiting: int
    oldest_created_at: float | None


def id_hash(request_id: str) -> str:
    """What a tombstone keeps of a request id."""
    return hashlib.sha256(request_id.encode()).hexdigest()


def join_acked(names: frozenset[str] | set[str]) -> str:
    return ",".join(sorted(names))


def split_acked(raw: str) -> frozenset[str]:
    return frozenset(x for x in raw.split(",") if x)


class Outbox(Protocol):
    """Every call raises on a storage failure; the service turns that into OutboxUnavailable."""

    kind: str  # "sqlite" or "postgresql": shown in /readyz

    async def open(self) -> None:
        """Connect and create the tables if needed. Safe to call again after a failure."""

    async def close(self) -> None: ...

    async def add(self, request_id: str, created_at: float, payload: bytes) -> None:
        """Write a new request, due at once. Returns only once it is durable."""

    async def claim(self, owner: str, now: float, lease: float, limit: int, *, due_only: bool) -> list[Stored]:
        """Claim up to ``limit`` unclaimed rows (due ones only, unless ``due_only`` is False), oldest first."""

    async def release(self, request_id: str, owner: str, acked: frozenset[str], attempts: int, next_attempt_at: float) -> None:
        """Record the sinks that have it, schedule the next attempt and drop the claim."""

    async def complete(self, request_id: str, now: float) -> None:
        """Delete the row and leave a tombstone."""

    async def withdraw(self, request_id: str, now: float) -> WithdrawResult:
        """Delete the row if no sink has it and no dispatcher holds it; else say why not."""

    async def backlog(self) -> Backlog: ...

    async def next_due(self) -> float | None:
        """When the earliest row becomes claimable (its next attempt, or its claim's end)."""

    async def probe(self) -> None:
        """A small write, for readiness. Raises if the outbox can't be written."""

    async def purge_tombstones(self, before: float) -> None: ...

    async def reseal(self, request_id: str, old: bytes, new: bytes) -> None:
        """Replace a sealed request (key rotation) unless it changed meanwhile."""

    async def all_payloads(self) -> list[tuple[str, bytes]]:
        """Every waiting row's id and sealed request (for key rotation at start)."""
