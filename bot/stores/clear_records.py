"""What "delete this conversation" needs after a session has ended: message ids, briefly.

The end message and the idle closing message both carry a "Delete this
conversation from my phone" button, but by the time it is pressed the session
is gone (wiped on purpose when it ended). So at the end the channel keeps a
**clear record**: only the Telegram message ids of that conversation (small
integers, meaningless outside the chat), keyed by the session key (a keyed
hash, never the chat id), for :data:`CLEAR_TTL_SECONDS`. Pressing the button
takes the record and deletes it; otherwise it expires on its own.

Honest limits, also in docs/telegram.md: a record exists for 15 minutes after
a conversation ends, so its existence says "this hashed chat talked to the
bot recently" for that long; after it expires, the button can delete only the
message it sits on and later ones. With Redis (several replicas) the record
lives in Redis with the same TTL, so any replica can carry out the press;
without Redis it lives in this process's memory. The protocol the channel
sees is :class:`bot.channels.port.ClearRecords`.
"""

from __future__ import annotations

import time
CLEAR_TTL_SECONDS = 15 * 60
_PREFIX = "frontdoor:clear:"


class MemoryClearRecords:
    """One process: a dict pruned as it is used."""

    def __init__(self, ttl: float = CLEAR_TTL_SECONDS, clock=time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._records: dict[str, tuple[float, tuple[int, ...]]] = {}

    async def add(self, key: str, message_ids: tuple[int, ...]) -> None:
        if not message_ids:
            return
        self._prune()
        _, kept = self._records.get(key, (0.0, ()))
        self._records[key] = (self._clock() + self.ttl, kept + tuple(message_ids))

    async def take(self, key: str) -> tuple[int, ...]:
        self._prune()
        return self._records.pop(key, (0.0, ()))[1]

    def __len__(self) -> int:
        self._prune()
        return len(self._records)

    def _prune(self) -> None:
        now = self._clock()
        for key in [k for k, (until, _) in self._records.items() if until <= now]:
            del self._records[key]

    async def close(self) -> None:
        self._records.clear()


class RedisClearRecords:
    """Several replicas: a Redis list per ended session, with the same TTL."""

    def __init__(self, client, ttl: int = CLEAR_TTL_SECONDS, own_client: bool = False) -> None:
        self.client = client
        self.ttl = ttl
        self._own = own_client

    async def add(self, key: str, message_ids: tuple[int, ...]) -> None:
        if not message_ids:
            return
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.rpush(_PREFIX + key, *message_ids)
            pipe.expire(_PREFIX + key, self.ttl)
            await pipe.execute()

    async def take(self, key: str) -> tuple[int, ...]:
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.lrange(_PREFIX + key, 0, -1)
            pipe.delete(_PREFIX + key)
            ids, _ = await pipe.execute()
        return tuple(int(i) for i in ids)

    async def close(self) -> None:
        if self._own:
            await self.client.aclose()
            await self.client.connection_pool.disconnect()


def open_clear_records(redis_url: str, max_connections: int = 16) -> "MemoryClearRecords | RedisClearRecords":
    """Redis when the sessions are in Redis (so any replica can clear), memory otherwise.

    Its pool is bounded and blocking like the session store's, so a burst of
    "delete this conversation" waits for a connection instead of failing.
    """
    if not redis_url:
        return MemoryClearRecords()
    import redis.asyncio as aioredis

    pool = aioredis.BlockingConnectionPool.from_url(redis_url, max_connections=max_connections, timeout=3.0, socket_timeout=2.0, socket_connect_timeout=2.0)
    return RedisClearRecords(aioredis.Redis(connection_pool=pool), own_client=True)
