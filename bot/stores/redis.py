"""Sessions in Redis, for several replicas behind one load balancer.

What Redis holds, and why it cannot betray anyone:

* ``fd:s:<key>``: the session, as JSON sealed with Fernet under a key derived
  from ``FRONTDOOR_HASH_SECRET``. A half-finished callback request holds a
  phone number; in Redis it is only ever ciphertext. TTL: the idle timeout
  plus a short grace, so a session vanishes even if every replica is down.
* ``fd:idle``: a sorted set of session keys by last message time, so exactly
  one replica claims an idle session (``ZREM`` answers 1 to one caller only)
  and sends one closing message.
* ``fd:l:<key>``: the per-session lock (redis-py's Lock, with a timeout), so
  two replicas never handle one chat's messages at once.
* ``fd:r:<key>``: the rate-limit counter, expiring with its window.

``<key>`` is a keyed hash (:func:`bot.identity.session_key`); no raw chat id or
phone number is ever a key or a value. We ask Redis to persist nothing: run it
with ``save ""`` and ``appendonly no`` (deploy/README.md).

Every Redis error becomes :class:`StoreUnavailable`, which the gateway turns
into a short apology and the number; readiness fails until Redis answers.
"""

from __future__ import annotations

import json
from contextlib import asynccontextmanager
from typing import AsyncIterator

import redis.asyncio as redis
from redis.exceptions import LockError, RedisError

from bot.conversation.session import Session
from bot.identity import Sealer
from bot.stores.base import StoreUnavailable

GRACE_SECONDS = 300  # the idle reaper runs every few seconds; this is slack for it
IDLE_SET = "fd:idle"
LOCK_TIMEOUT = 15  # a replica that dies holding a lock frees it after this
LOCK_WAIT = 10


class RedisStore:
    def __init__(self, url: str, secret: bytes, *, idle_seconds: float, socket_timeout: float = 2.0) -> None:
        self._redis = redis.Redis.from_url(
            url,
            socket_timeout=socket_timeout,
            socket_connect_timeout=socket_timeout,
            health_check_interval=15,
            retry_on_timeout=False,
        )
        self._sealer = Sealer(secret)
        self._ttl = int(idle_seconds) + GRACE_SECONDS

    @staticmethod
    def _session(key: str) -> str:
        return f"fd:s:{key}"

    async def load(self, key: str) -> Session | None:
        try:
            raw = await self._redis.get(self._session(key))
        except RedisError as exc:
            raise StoreUnavailable(type(exc).__name__) from None
        if raw is None:
            return None
        opened = self._sealer.open(raw.decode())
        if opened is None:  # sealed under another secret: start afresh rather than fail
            return None
        return Session.from_dict(json.loads(opened))

    async def save(self, key: str, session: Session) -> None:
        sealed = self._sealer.seal(json.dumps(session.to_dict(), separators=(",", ":")))
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.set(self._session(key), sealed, ex=self._ttl)
                pipe.zadd(IDLE_SET, {key: session.last_seen})
                pipe.expire(IDLE_SET, self._ttl)
                await pipe.execute()
        except RedisError as exc:
            raise StoreUnavailable(type(exc).__name__) from None

    async def delete(self, key: str) -> None:
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.delete(self._session(key), f"fd:r:{key}")
                pipe.zrem(IDLE_SET, key)
                await pipe.execute()
        except RedisError as exc:
            raise StoreUnavailable(type(exc).__name__) from None

    @asynccontextmanager
    async def lock(self, key: str) -> AsyncIterator[None]:
        lock = self._redis.lock(f"fd:l:{key}", timeout=LOCK_TIMEOUT, blocking_timeout=LOCK_WAIT)
        try:
            acquired = await lock.acquire()
        except RedisError as exc:
            raise StoreUnavailable(type(exc).__name__) from None
        if not acquired:
            raise StoreUnavailable("lock wait timed out")
        try:
            yield
        finally:
            try:
                await lock.release()
            except (LockError, RedisError):
                pass  # expired or Redis gone: the lock's own timeout frees it

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
        try:
            keys = await self._redis.zrangebyscore(IDLE_SET, "-inf", now - idle_seconds, start=0, num=500)
            claimed: list[tuple[str, Session]] = []
            for raw_key in keys:
                key = raw_key.decode()
                if not await self._redis.zrem(IDLE_SET, key):
                    continue  # another replica claimed it
                session = await self.load(key)
                await self._redis.delete(self._session(key), f"fd:r:{key}")
                if session is not None and now - session.last_seen > idle_seconds:
                    claimed.append((key, session))
                elif session is not None:  # a message arrived meanwhile: put it back
                    await self._redis.zadd(IDLE_SET, {key: session.last_seen})
                    await self.save(key, session)
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
