"""The embedded default: sessions in a dict, in this process only, gone when it stops.

Right for one replica (``make run``, the terminal chat, a small deployment).
Nothing is written anywhere: a session is an object in a dict until the
person ends it or the idle reaper claims it, and then it is dropped. Locks
and rate-limit counters are dropped with it, so nothing named by the
person's key outlives the session.

It keeps the same promises as the Redis store, so the two behave alike:
``load`` hands out a copy and ``save`` keeps one (a change that was never
saved is not in the store), and the reaper skips a session whose lock is held.
"""

from __future__ import annotations

import asyncio
import time

from bot.conversation.session import Session
from bot.stores.base import Turn

SWEEP_SECONDS = 5.0


class _KeyLock:
    """The per-session lock as a plain async context manager (no generator per message).

    Lock objects are counted by their users and dropped with the last one, so no lock
    piles up for people who have gone.
    """

    __slots__ = ("_locks", "_key", "_lock")

    def __init__(self, locks: dict[str, tuple[asyncio.Lock, int]], key: str) -> None:
        self._locks = locks
        self._key = key

    async def __aenter__(self) -> None:
        lock, users = self._locks.get(self._key) or (asyncio.Lock(), 0)
        self._locks[self._key] = (lock, users + 1)
        self._lock = lock
        try:
            await self._lock.acquire()
        except BaseException:
            self._release_user()
            raise

    async def __aexit__(self, *exc: object) -> None:
        self._lock.release()
        self._release_user()

    def _release_user(self) -> None:
        lock, users = self._locks[self._key]
        if users <= 1:
            del self._locks[self._key]
        else:
            self._locks[self._key] = (lock, users - 1)


class MemoryStore:
    def __init__(self, clock=time.monotonic) -> None:
        self._sessions: dict[str, Session] = {}
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}
        self._hits: dict[str, tuple[float, int]] = {}  # key -> (expires at, count)
        self._next_sweep = 0.0
        self._clock = clock

    # --- one message ---------------------------------------------------------------

    async def begin(self, key: str, *, limit: int, window: int, seen: str = "", seen_ttl: int = 0) -> Turn:
        if seen and await self.seen_once(seen, seen_ttl):
            return Turn(key, duplicate=True)
        count = await self.hit(key, limit, window)
        if count > limit:
            return Turn(key, count=count)
        hold = _KeyLock(self._locks, key)
        await hold.__aenter__()
        return Turn(key, count=count, admitted=True, session=await self.load(key), hold=hold)

    async def finish(self, turn: Turn, session: Session | None) -> None:
        try:
            if session is None:
                await self.delete(turn.key)
            else:
                await self.save(turn.key, session)
        finally:
            await self.release(turn)

    async def release(self, turn: Turn) -> None:
        hold, turn.hold = turn.hold, None
        if isinstance(hold, _KeyLock):
            await hold.__aexit__(None, None, None)

    async def seen_once(self, name: str, ttl: int) -> bool:
        return await self.hit(name, 1, ttl) > 1

    # --- sessions ------------------------------------------------------------------

    async def load(self, key: str) -> Session | None:
        session = self._sessions.get(key)
        return None if session is None else session.copy()

    async def save(self, key: str, session: Session) -> None:
        self._sessions[key] = session.copy()

    async def delete(self, key: str) -> None:
        self._sessions.pop(key, None)
        self._hits.pop(key, None)

    def lock(self, key: str) -> "_KeyLock":
        return _KeyLock(self._locks, key)

    async def hit(self, key: str, limit: int, window_seconds: int) -> int:
        now = self._clock()
        expires, count = self._hits.get(key, (0.0, 0))
        if now >= expires:
            expires, count = now + window_seconds, 0
        self._hits[key] = (expires, count + 1)
        if now >= self._next_sweep:
            self._sweep_hits(now)
        return count + 1

    def _sweep_hits(self, now: float) -> None:
        """Drop expired counters, at most every few seconds: a sweep walks them all, and
        sweeping on every message once there are many (as this once did) made each
        message pay for every counter in the process."""
        self._next_sweep = now + SWEEP_SECONDS
        for key in [k for k, (expires, _) in self._hits.items() if now >= expires]:
            del self._hits[key]

    async def pop_idle(self, now: float, idle_seconds: float) -> list[tuple[str, Session]]:
        idle = [(k, s) for k, s in self._sessions.items() if now - s.last_seen > idle_seconds and k not in self._locks]
        for key, _ in idle:
            await self.delete(key)
        return idle

    async def ping(self) -> bool:
        return True

    async def count(self) -> int:
        return len(self._sessions)

    async def close(self) -> None:
        self._sessions.clear()
        self._hits.clear()
