"""Both session stores keep the same promises: nothing outlives a session, nothing readable in Redis.

Each test runs on the in-memory store (the default) and on Redis (the
machine's server, a database of its own), through the real gateway, so what
is checked is what a person's conversation leaves behind.
"""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis

from bot.conversation.events import Channel, Inbound
from bot.conversation.session import Session
from bot.gateway import Gateway
from bot.stores.memory import MemoryStore
from bot.stores.redis import RedisStore
from tests.conftest import AcceptingOutbox, CRISIS_LINE, FAKE_MOBILE, make_engine

SECRET = b"test-secret-for-sealing-sessions"
T = Channel.TERMINAL
KEY = "terminal:5f2b"



@pytest.fixture(params=["memory", "redis"])
async def store(request):
    if request.param == "memory":
        s = MemoryStore()
    else:
        url = request.getfixturevalue("shared_redis_url")
        s = RedisStore(url, SECRET, idle_seconds=1800)
    yield s
    await s.close()


async def say(gw: Gateway, text: str, key: str = KEY):
    return await gw.handle(T, key, Inbound.typed(T, text))


async def test_end_wipes_the_session_and_the_rate_counter(store):
    gw = Gateway(make_engine(), store, AcceptingOutbox(), rate_limit_per_minute=10)
    for text in ("hi", "2", FAKE_MOBILE):
        await say(gw, text)
    assert await store.load(KEY) is not None
    await say(gw, "end")
    assert await store.load(KEY) is None
    assert await store.hit(KEY, 10, 60) == 1, "the rate counter named by the session outlived it"


async def test_an_idle_session_is_claimed_once_by_one_of_two_replicas(store, request):
    if isinstance(store, MemoryStore):
        other = store  # one process: the same store
    else:
        other = RedisStore(request.getfixturevalue("shared_redis_url"), SECRET, idle_seconds=1800)
    for i in range(20):
        await store.save(f"terminal:{i}", Session.new("menu", now=100.0))
    a, b = await asyncio.gather(store.pop_idle(5000.0, 1800), other.pop_idle(5000.0, 1800))
    claimed = sorted(k for k, _ in a + b)
    assert claimed == sorted(f"terminal:{i}" for i in range(20))
    assert await store.count() == 0
    if other is not store:
        await other.close()


async def test_one_chat_is_handled_by_one_replica_at_a_time(store, request):
    other = store if isinstance(store, MemoryStore) else RedisStore(request.getfixturevalue("shared_redis_url"), SECRET, idle_seconds=1800)
    order: list[str] = []
    first_in = asyncio.Event()

    async def first():
        async with store.lock(KEY):
            order.append("first in")
            first_in.set()
            await asyncio.sleep(0.3)
            order.append("first out")

    async def second():
        await first_in.wait()
        async with other.lock(KEY):
            order.append("second in")

    await asyncio.gather(first(), second())
    assert order == ["first in", "first out", "second in"]
    if other is not store:
        await other.close()


async def test_redis_holds_only_sealed_sessions_with_a_ttl_on_every_key(shared_redis_url):
    store = RedisStore(shared_redis_url, SECRET, idle_seconds=1800)
    gw = Gateway(make_engine(), store, AcceptingOutbox(), rate_limit_per_minute=10)
    reply = None
    for text in ("hi", "2", FAKE_MOBILE):
        reply = await say(gw, text)
    assert CRISIS_LINE in reply.replies[0].text
    client = aioredis.from_url(shared_redis_url)
    keys = await client.keys("*")
    assert keys, "the conversation left nothing in Redis: the test would prove nothing"
    digits = FAKE_MOBILE.replace(" ", "")
    for key in keys:
        assert await client.ttl(key) > 0, f"{key!r} has no TTL"
        assert digits[1:] not in key.decode()
        kind = await client.type(key)
        value = await client.get(key) if kind == b"string" else b" ".join(m for m, _ in await client.zrange(key, 0, -1, withscores=True))
        assert digits[1:].encode() not in value and b"callback" not in value, f"{key!r} holds readable session data"
    await say(gw, "end")
    assert await client.keys("fd:s:*") == [] and await client.zcard("fd:idle") == 0
    await client.aclose()
    await store.close()
