"""The gateway: the one path every channel takes, and where failure still becomes an answer."""

from __future__ import annotations

import pytest

from bot.callbacks.base import OutboxUnavailable
from bot.config import load
from bot.conversation.events import Channel, EndSession, Inbound, ReplyKind
from bot.gateway import Gateway
from bot.stores import open_session_store
from tests.conftest import CRISIS_LINE, FAKE_MOBILE, make_engine

T = Channel.TERMINAL


class RecordingOutbox:
    """A stand-in outbox for gateway tests: records what was submitted, or fails on demand.

    The real outbox has its own tests (tests/callbacks); here only the
    gateway's handling of success and failure is under test.
    """

    available = True

    def __init__(self, fail: bool = False):
        self.fail = fail
        self.submitted = []

    async def submit(self, details):
        if self.fail:
            raise OutboxUnavailable("disk full")
        self.submitted.append(details)
        return f"req-{len(self.submitted)}"

    async def cancel(self, request_id):
        return "withdrawn"


@pytest.fixture
async def store(tmp_path):
    s = await open_session_store(load({"FRONTDOOR_ENV": "test", "FRONTDOOR_DATA_DIR": str(tmp_path)}))
    yield s
    await s.close()


def gateway(store, outbox=None, limit=10):
    return Gateway(make_engine(), store, outbox or RecordingOutbox(), rate_limit_per_minute=limit)


async def say(gw, text, key="terminal:abc"):
    return await gw.handle(T, key, Inbound.typed(T, text))


async def test_a_callback_request_through_the_gateway(store):
    outbox = RecordingOutbox()
    gw = gateway(store, outbox)
    for msg in ("hi", "2", FAKE_MOBILE, "1", "1", "1"):
        await say(gw, msg)
    delivery = await say(gw, "1")
    assert "with the team" in delivery.replies[0].text
    assert outbox.submitted[0].phone == "+447700900123"
    session = await store.load("terminal:abc")
    assert session.slots["callback_id"] == "req-1"


async def test_unwritable_outbox_is_told_plainly(store):
    gw = gateway(store, RecordingOutbox(fail=True))
    for msg in ("hi", "2", FAKE_MOBILE, "1", "1", "1"):
        await say(gw, msg)
    text = (await say(gw, "1")).replies[0].text
    assert "could not be sent" in text and CRISIS_LINE in text and "with the team" not in text


async def test_end_wipes_the_session(store):
    gw = gateway(store)
    await say(gw, "hi")
    delivery = await say(gw, "bye")
    assert delivery.ended and await store.load("terminal:abc") is None


async def test_flood_gets_one_notice_then_silence(store):
    gw = gateway(store, limit=3)
    replies = [await say(gw, "hello") for _ in range(6)]
    assert all(r.replies for r in replies[:3])
    assert "a lot of messages" in replies[3].replies[0].text and CRISIS_LINE in replies[3].replies[0].text
    assert replies[4].replies == () and replies[5].replies == ()


async def test_flood_still_gets_the_emergency_reply(store):
    gw = gateway(store, limit=2)
    for _ in range(3):
        await say(gw, "hello")
    delivery = await say(gw, "i want to end my life")
    assert delivery.replies[0].kind is ReplyKind.EMERGENCY


async def test_store_down_still_answers_with_the_number():
    redis_settings = load({"FRONTDOOR_ENV": "test", "FRONTDOOR_REDIS_URL": "redis://127.0.0.1:1/0", "FRONTDOOR_HASH_SECRET": "s" * 32})
    store = await open_session_store(redis_settings)
    try:
        gw = gateway(store)
        delivery = await say(gw, "hi")
        assert delivery.degraded and CRISIS_LINE in delivery.replies[0].text and "999" in delivery.replies[0].text
        urgent = await say(gw, "i want to kill myself")
        assert urgent.replies[0].kind is ReplyKind.EMERGENCY
    finally:
        await store.close()


async def test_engine_bug_still_answers_with_the_number(store, monkeypatch):
    gw = gateway(store)

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(gw.engine, "handle", broken)
    delivery = await say(gw, "hi")
    assert delivery.degraded and CRISIS_LINE in delivery.replies[0].text


async def test_gateway_end_wipes_and_counts(store):
    gw = gateway(store)
    await say(gw, "hi")
    await gw.end("terminal:abc", "quick_exit")
    assert await store.load("terminal:abc") is None


async def test_idle_sessions_are_reaped_once_and_handed_to_their_channel(store):
    gw = gateway(store)
    clock = [1000.0]
    gw.clock = lambda: clock[0]
    await gw.handle(Channel.TELEGRAM, "telegram:k1", Inbound.typed(Channel.TELEGRAM, "hi"), reach="sealed")
    seen = []

    async def listener(key, session):
        seen.append((key, session.reach))

    gw.on_idle(Channel.TELEGRAM, listener)
    clock[0] += gw.engine.options.idle_seconds + 1
    assert await gw.reap_idle() == 1
    assert await gw.reap_idle() == 0
    assert seen == [("telegram:k1", "sealed")]
    assert await store.load("telegram:k1") is None


async def test_end_action_reports_session_message_ids(store):
    gw = gateway(store)
    key = "telegram:k2"
    await gw.handle(Channel.TELEGRAM, key, Inbound.typed(Channel.TELEGRAM, "hi"), message_ids=(11,))
    await gw.remember_sent(key, (12,))
    delivery = await gw.handle(Channel.TELEGRAM, key, Inbound.typed(Channel.TELEGRAM, "end"), message_ids=(13,))
    assert any(isinstance(a, EndSession) for a in delivery.actions)
    assert delivery.message_ids == (11, 12, 13)
