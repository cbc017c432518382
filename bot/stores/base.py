"""The session store protocol: the only thing the gateway knows about where sessions live.

Two implementations: :mod:`bot.stores.memory` (the embedded default, one
process) and :mod:`bot.stores.redis` (several replicas). Both expire a
session after the idle timeout and keep nothing on disk.
"""

from __future__ import annotations

from typing import AsyncContextManager, Protocol

from bot.conversation.session import Session


class StoreUnavailable(RuntimeError):
    """The store cannot be reached. The gateway answers in degraded mode with the number."""


class SessionStore(Protocol):
    async def load(self, key: str) -> Session | None:
        """The session for ``key``, or None. Raises StoreUnavailable."""

    async def save(self, key: str, session: Session) -> None:
        """Store ``session`` with a TTL of the idle timeout. Raises StoreUnavailable."""

    async def delete(self, key: str) -> None:
        """Remove every trace of ``key``: session and any counters named by it."""

    def lock(self, key: str) -> AsyncContextManager[None]:
        """Held while one message for ``key`` is handled, so replicas never interleave."""

    async def hit(self, key: str, limit: int, window_seconds: int) -> int:
        """Count one message from ``key`` in the current window; returns the count so far."""

    async def pop_idle(self, now: float, idle_seconds: float) -> list[tuple[str, Session]]:
        """Claim and remove sessions idle longer than ``idle_seconds``.

        Each idle session is returned to exactly one caller across all replicas,
        so exactly one closing message goes out.
        """

    async def ping(self) -> bool:
        """True if the store answers (readiness)."""

    async def count(self) -> int:
        """Active sessions (a gauge; no identities)."""

    async def close(self) -> None: ...
