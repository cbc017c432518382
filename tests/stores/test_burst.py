"""A burst queues instead of failing, and the idle reaper never takes a session mid-message.

On the real Redis (the machine's server, a database of its own): many people
at once must all get the conversation, not the degraded reply, however few
connections the pool may open; and the store's path for one message is at
most two round trips (bench/gateway_redis.py has the figure).
"""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio.connection as redis_connection

from bot.conversation.events import Channel, Inbound
from bot.conversation.session import Session
from bot.gateway import Gateway
from bot.metrics import Metrics
from bot.stores.memory import MemoryStore
from bot.stores.redis import RedisStore
from tests.conftest import AcceptingOutbox, CRISIS_LINE, make_engine

SECRET = b"test-secret-for-sealing-sessions"
SMS = Channel.SMS


def gateway(store, metrics=None) -> Gateway:
    return Gateway(make_engine(), store, AcceptingOutbox(), rate_limit_per_minute=10, secret=SECRET, metrics=metrics or Metrics())


async def test_a_burst_of_300_senders_on_a_small_pool_all_get_the_conversation(shared_redis_url):
    # Eight connections for 300 people at once: they must wait their turn, not fail.
    store = RedisStore(shared_redis_url, SECRET, idle_seconds=1800, max_connections=8)
    metrics = Metrics()
    gw = gateway(store, metrics)
    deliveries = await asyncio.gather(*(gw.handle(SMS, f"sms:{i:04d}", Inbound.typed(SMS, "hi"), message_id=f"SM{i}") for i in range(300)))
    await store.close()
    degraded = [d for d in deliveries if d.degraded]
    assert not degraded, f"{len(degraded)} of 300 got the degraded reply"
    assert all(CRISIS_LINE in d.replies[0].text for d in deliveries)
    assert metrics.value("frontdoor_degraded_replies_total") == 0


async def test_the_default_pool_takes_a_burst_bigger_than_redis_pys_default(shared_redis_url):
    store = RedisStore(shared_redis_url, SECRET, idle_seconds=1800)
    gw = gateway(store)
    deliveries = await asyncio.gather(*(gw.handle(SMS, f"sms:{i:04d}", Inbound.typed(SMS, "hi")) for i in range(400)))
    await store.close()
    assert sum(d.degraded for d in deliveries) == 0


async def test_one_message_is_at_most_two_round_trips_to_redis(shared_redis_url, monkeypatch):
    store = RedisStore(shared_redis_url, SECRET, idle_seconds=1800)
    gw = gateway(store)
    await gw.handle(SMS, "sms:warm", Inbound.typed(SMS, "hi"), message_id="SMwarm")  # scripts loaded, pool warm
    sent = []
    original = redis_connection.AbstractConnection.send_packed_command

    async def counting(self, command, check_health=True):
        sent.append(1)
        return await original(self, command, check_health)

    monkeypatch.setattr(redis_connection.AbstractConnection, "send_packed_command", counting)
    for i, text in enumerate(("hi", "2", "menu")):
        delivery = await gw.handle(SMS, "sms:counted", Inbound.typed(SMS, text), message_id=f"SMc{i}")
        assert not delivery.degraded
    await store.close()
    assert len(sent) <= 6, f"{len(sent)} round trips for 3 messages"


@pytest.fixture(params=["memory", "redis"])
async def store(request):
    if request.param == "memory":
        s = MemoryStore()
    else:
        s = RedisStore(request.getfixturevalue("shared_redis_url"), SECRET, idle_seconds=1800)
    yield s
    await s.close()


async def test_the_idle_reaper_never_takes_a_session_while_a_message_is_being_handled(store):
    key = "terminal:racing"
    await store.save(key, Session.new("menu", now=100.0))
    turn = await store.begin(key, limit=10, window=60)  # a message arrives: the session is held
    assert turn.admitted and turn.session is not None
    claimed = await store.pop_idle(5000.0, 1800)  # the reaper runs meanwhile: it looks idle
    assert claimed == [], "the reaper took a session a message was holding"
    turn.session.last_seen = 5000.0
    await store.finish(turn, turn.session)  # the message's save lands
    assert (await store.load(key)) is not None, "the save was lost"
    assert await store.pop_idle(5000.0 + 10, 1800) == []


async def test_a_failed_save_leaves_the_stored_session_as_it_was(store):
    key = "terminal:copy"
    await store.save(key, Session.new("menu", now=100.0))
    loaded = await store.load(key)
    loaded.state = "callback_phone"  # changed in hand, then the save never happens
    assert (await store.load(key)).state == "menu"


async def test_a_duplicate_message_id_is_answered_once(store):
    gw = gateway(store)
    first = await gw.handle(SMS, "sms:dup", Inbound.typed(SMS, "hi"), message_id="SMdup")
    again = await gw.handle(SMS, "sms:dup", Inbound.typed(SMS, "hi"), message_id="SMdup")
    assert first.replies and not again.replies and again.duplicate
