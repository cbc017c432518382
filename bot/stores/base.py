"""The session store protocol: the only thing the gateway knows about where sessions live.

Two implementations: :mod:`bot.stores.memory` (the embedded default, one
process) and :mod:`bot.stores.redis` (several replicas). Both expire a
session after the idle timeout and keep nothing on disk.

One message is one :class:`Turn`, in two calls, so that on Redis it is two
round trips whatever happens inside:

* :meth:`SessionStore.begin` checks the provider's message id (a retry is
  answered once), counts the message against the sender's rate limit and,
  within the limit, takes the session's lock and loads the session;
* :meth:`SessionStore.finish` saves the session (or wipes it, when the
  conversation ended) and lets the lock go.

The lock is what keeps two replicas from handling one chat at once and the
idle reaper from claiming a session while a message is being handled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import AsyncContextManager, Protocol

from bot.conversation.session import Session


class StoreUnavailable(RuntimeError):
    """The store cannot be reached. The gateway answers in degraded mode with the number."""


@dataclass(slots=True)
class Turn:
    """One message's hold on a session, from :meth:`SessionStore.begin` to :meth:`SessionStore.finish`.

    ``duplicate``: the message id was seen already (nothing else was done).
    ``count``: messages from this sender in the rate window, this one included.
    ``admitted``: within the limit; the lock is held and ``session`` is loaded
    (None for someone new). The gateway must then call ``finish`` or ``release``.
    """

    key: str
    duplicate: bool = False
    count: int = 0
    admitted: bool = False
    session: Session | None = None
    hold: object = None  # the store's own lock handle


class SessionStore(Protocol):
    async def begin(self, key: str, *, limit: int, window: int, seen: str = "", seen_ttl: int = 0) -> Turn:
        """Duplicate check of ``seen`` (a keyed name, for ``seen_ttl`` seconds), rate count, lock and load.

        Waits for the lock while another message for ``key`` is being handled;
        raises StoreUnavailable if the store is down or the wait runs out.
        """

    async def finish(self, turn: Turn, session: Session | None) -> None:
        """Save ``session`` (None: wipe the session and its counters) and release the lock."""

    async def release(self, turn: Turn) -> None:
        """Release the lock without saving (the message failed). Never raises."""

    async def seen_once(self, name: str, ttl: int) -> bool:
        """True if ``name`` was marked within ``ttl`` seconds; marks it. Across replicas."""

    async def load(self, key: str) -> Session | None:
        """A copy of the session for ``key``, or None. Raises StoreUnavailable."""

    async def save(self, key: str, session: Session) -> None:
        """Store ``session`` with a TTL of the idle timeout. Raises StoreUnavailable."""

    async def delete(self, key: str) -> None:
        """Remove every trace of ``key``: session and any counters named by it."""

    def lock(self, key: str) -> AsyncContextManager[None]:
        """Held while something outside a turn changes ``key``'s session (an end, sent ids)."""

    async def hit(self, key: str, limit: int, window_seconds: int) -> int:
        """Count one event for ``key`` in the current window; returns the count so far."""

    async def pop_idle(self, now: float, idle_seconds: float) -> list[tuple[str, Session]]:
        """Claim and remove sessions idle longer than ``idle_seconds``.

        Each idle session is returned to exactly one caller across all replicas,
        so exactly one closing message goes out; a session whose lock is held (a
        message is being handled) is never claimed.
        """

    async def ping(self) -> bool:
        """True if the store answers (readiness)."""

    async def count(self) -> int:
        """Active sessions (a gauge; no identities)."""

    async def close(self) -> None: ...
