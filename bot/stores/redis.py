"""Sessions in Redis, for several replicas behind one load balancer.

What Redis holds, and why it cannot betray anyone:

* ``fd:s:<key>``: the session, as JSON sealed with Fernet under a key derived
  from ``FRONTDOOR_HASH_SECRET``. A half-finished callback request holds a
  phone number; in Redis it is only ever ciphertext. TTL: the idle timeout
  plus a short grace, so a session vanishes even if every replica is down.
* ``fd:idle``: a sorted set of session keys by last message time, so exactly
  one replica claims an idle session and sends one closing message.
* ``fd:l:<key>``: the per-session lock (a random token with a timeout), so
  two replicas never handle one chat's messages at once, and the reaper
  never claims a session while a message for it is being handled.
* ``fd:r:<key>``: the rate-limit counter, expiring with its window.
* ``fd:d:<hash>``: a provider's message id, seen once, for a day.

One message is two round trips (:mod:`bot.stores.redis_scripts`).

The connection pool is bounded (``FRONTDOOR_REDIS_MAX_CONNECTIONS``) and
*blocking*: in a burst, a message waits up to :data:`POOL_WAIT_SECONDS` for
a connection instead of failing at once (redis-py's default pool raises "Too
many connections" past 100, which gave 200 of 300 senders the degraded reply).

``<key>`` is a keyed hash (:func:`bot.identity.session_key`); no raw chat id or
phone number is ever a key or a value. We ask Redis to persist nothing: run it
with ``save ""`` and ``appendonly no`` (deploy/README.md).

Every Redis error becomes :class:`StoreUnavailable`, which the gateway turns
into a short apology and the number; readiness fails until Redis answers.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from contextlib import asynccontextmanager
from typing import AsyncIterator

import redis.asyncio as redis
from redis.exceptions import RedisError

from bot.conversation.session import Session
from bot.identity import Sealer
from bot.stores import redis_scripts as scripts
from bot.stores.base import StoreUnavailable, Turn

GRACE_SECONDS = 300  # the idle reaper runs every few seconds; this is slack for it
IDLE_SET = "fd:idle"
LOCK_TIMEOUT_MS = 15_000  # a replica that dies holding a lock frees it after this
LOCK_WAIT_SECONDS = 10.0
POOL_WAIT_SECONDS = 3.0  # shorter than any provider's reply budget (Twilio waits 15 s)
DEFAULT_MAX_CONNECTIONS = 64
_NO_DEDUPE = "fd:d:-"


def _session(key: str) -> str:
    return f"fd:s:{key}"


def _keys(key: str) -> tuple[str, str, str]:
    return _session(key), f"fd:l:{key}", f"fd:r:{key}"


class RedisStore:
    def __init__(
        self,
        url: str,
        secret: bytes,
        *,
        idle_seconds: float,
        socket_timeout: float = 2.0,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        pool_wait: float = POOL_WAIT_SECONDS,
    ) -> None:
        pool = redis.BlockingConnectionPool.from_url(
            url,
            max_connections=max_connections,
            timeout=pool_wait,
            socket_timeout=socket_timeout,
            socket_connect_timeout=socket_timeout,
            health_check_interval=15,
            retry_on_timeout=False,
        )
        self._redis = redis.Redis(connection_pool=pool)
        self._sealer = Sealer(secret)
        self._ttl = int(idle_seconds) + GRACE_SECONDS
        self._begin = self._redis.register_script(scripts.BEGIN)
        self._take = self._redis.register_script(scripts.TAKE)
        self._save = self._redis.register_script(scripts.SAVE)
        self._wipe = self._redis.register_script(scripts.WIPE)
        self._release = self._redis.register_script(scripts.RELEASE)
        self._reap = self._redis.register_script(scripts.REAP)

    # --- one message: two round trips ---------------------------------------------------

    async def begin(self, key: str, *, limit: int, window: int, seen: str = "", seen_ttl: int = 0) -> Turn:
        session_key, lock_key, rate_key = _keys(key)
        token = secrets.token_hex(8)
        try:
            duplicate, count, locked, sealed = await self._begin(
                keys=[f"fd:d:{seen}" if seen else _NO_DEDUPE, rate_key, lock_key, session_key],
                args=[int(seen_ttl) if seen else 0, window, limit, token, LOCK_TIMEOUT_MS],
            )
            if duplicate:
                return Turn(key, duplicate=True)
            if int(count) > limit:
                return Turn(key, count=int(count))
            if not locked:
                sealed = await self._wait_for_lock(lock_key, session_key, token)
        except RedisError as exc:
            raise StoreUnavailable(type(exc).__name__) from None
        return Turn(key, count=int(count), admitted=True, session=self._open(sealed), hold=token)

    async def _wait_for_lock(self, lock_key: str, session_key: str, token: str) -> bytes | None:
        """Another message from this person is in flight: wait for its turn to end."""
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        delay = 0.005
        while True:
            await asyncio.sleep(delay)
            locked, sealed = await self._take(keys=[lock_key, session_key], args=[token, LOCK_TIMEOUT_MS])
            if locked:
                return sealed
            if time.monotonic() > deadline:
                raise StoreUnavailable("lock wait timed out")
            delay = min(delay * 2, 0.1)

    async def finish(self, turn: Turn, session: Session | None) -> None:
        session_key, lock_key, rate_key = _keys(turn.key)
        token = str(turn.hold or "")
        turn.hold = None
        try:
            if session is None:
                await self._wipe(keys=[session_key, IDLE_SET, lock_key, rate_key], args=[turn.key, token])
            else:
                await self._save(keys=[session_key, IDLE_SET, lock_key], args=[self._seal(session), self._ttl, turn.key, session.last_seen, token])
        except RedisError as exc:
            raise StoreUnavailable(type(exc).__name__) from None

    async def release(self, turn: Turn) -> None:
        token, turn.hold = turn.hold, None
        if not token:
            return
        try:
            await self._release(keys=[f"fd:l:{turn.key}"], args=[token])
        except RedisError:
            pass  # Redis gone: the lock's own timeout frees it

    async def seen_once(self, name: str, ttl: int) -> bool:
        try:
            return not await self._redis.set(f"fd:d:{name}", b"1", nx=True, ex=int(ttl))
        except RedisError as exc:
            raise StoreUnavailable(type(exc).__name__) from None

    # --- sessions outside a message ----------------------------------------------------------

    def _seal(self, session: Session) -> str:
        return self._sealer.seal(json.dumps(session.to_dict(), separators=(",", ":")))

    def _open(self, raw: bytes | None) -> Session | None:
        if not raw:
            return None
        opened = self._sealer.open(raw.decode())
        if opened is None:  # sealed under another secret: start afresh rather than fail
            return None
        return Session.from_dict(json.loads(opened))

    async def load(self, key: str) -> Session | None:
        try:
            raw = await self._redis.get(_session(key))
        except RedisError as exc:
            raise StoreUnavailable(type(exc).__name__) from None
        return self._open(raw)

    async def save(self, key: str, session: Session) -> None:
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.set(_session(key), self._seal(session), ex=self._ttl)
                pipe.zadd(IDLE_SET, {key: session.last_seen})
                pipe.expire(IDLE_SET, self._ttl)
                await pipe.execute()
        except RedisError as exc:
            raise StoreUnavailable(type(exc).__name__) from None

    async def delete(self, key: str) -> None:
        session_key, _, rate_key = _keys(key)
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.delete(session_key, rate_key)
                pipe.zrem(IDLE_SET, key)
                await pipe.execute()
        except RedisError as exc:
            raise StoreUnavailable(type(exc).__name__) from None

    @asynccontextmanager
    async def lock(self, key: str) -> AsyncIterator[None]:
        session_key, lock_key, _ = _keys(key)
        token = secrets.token_hex(8)
        try:
            locked, _ = await self._take(keys=[lock_key, session_key], args=[token, LOCK_TIMEOUT_MS])
            if not locked:
                await self._wait_for_lock(lock_key, session_key, token)
        except RedisError as exc:
            raise StoreUnavailable(type(exc).__name__) from None
        try:
            yield
        finally:
            await self.release(Turn(key, hold=token))

    async def hit(self, key: str, limit: int, window_seconds: int) -> int:
        name = f"fd:r:{key}"
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(name)
                pipe.expire(name, window_seconds, nx=True)
                count, _ = await pipe.execute()
        except RedisError as exc:
            raise StoreUnavailable(type(exc).__name__) from None
        return int(count)

    async def pop_idle(self, now: float, idle_seconds: float) -> list[tuple[str, Session]]:
        cutoff = now - idle_seconds
        try:
            keys = await self._redis.zrangebyscore(IDLE_SET, "-inf", cutoff, start=0, num=500)
            claimed: list[tuple[str, Session]] = []
            for raw_key in keys:
                key = raw_key.decode()
                session_key, lock_key, rate_key = _keys(key)
                sealed = await self._reap(keys=[IDLE_SET, session_key, lock_key, rate_key], args=[key, cutoff])
                session = self._open(sealed) if sealed is not None else None
                if session is not None:  # None: another replica claimed it, a message holds it, or it expired
                    claimed.append((key, session))
            return claimed
        except RedisError as exc:
            raise StoreUnavailable(type(exc).__name__) from None

    async def ping(self) -> bool:
        try:
            return bool(await self._redis.ping())
        except RedisError:
            return False

    async def count(self) -> int:
        try:
            return int(await self._redis.zcard(IDLE_SET))
        except RedisError:
            return 0

    async def close(self) -> None:
        await self._redis.aclose()
        await self._redis.connection_pool.disconnect()
