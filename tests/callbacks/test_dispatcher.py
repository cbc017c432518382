"""The dispatcher against real outboxes and sinks that fail: retries, backoff, per-sink acks, stop."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot import metrics
from bot.callbacks.dispatcher import Dispatcher
from bot.callbacks.webhook_sink import WebhookSink
from tests.callbacks.conftest import SECRET, MemorySink, Receiver, details, new_cipher, service
from tests.support import eventually


def sample(metric, **labels) -> float:
    name = metric._name
    for m in metrics.REGISTRY.collect():
        for s in m.samples:
            if s.name in (name, name + "_total") and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return 0.0


async def test_delivers_to_every_sink_once_and_deletes(outbox):
    a, b = MemorySink("a"), MemorySink("b")
    svc = service(outbox, [a, b])
    await svc.start()
    try:
        rid = await svc.submit(details())
        await eventually(lambda: a.ids == [rid] and b.ids == [rid])
        await eventually(lambda: svc.dispatcher.delivered == 1)
        assert (await outbox.backlog()).waiting == 0
        assert a.received[0].details == details()
    finally:
        await svc.stop()
    assert await svc.cancel(rid) == "delivered"


async def test_a_sink_that_has_it_is_not_sent_it_again_while_another_is_down(outbox):
    up, down = MemorySink("up"), MemorySink("down", failing=True)
    svc = service(outbox, [up, down])
    await svc.start()
    try:
        rid = await svc.submit(details())
        await eventually(lambda: down.attempts >= 4)
        assert up.ids == [rid]
        assert await svc.cancel(rid) == "delivered"  # one sink has it: not "nothing was passed on"
        down.failing = False
        await eventually(lambda: down.ids == [rid])
        await eventually(lambda: svc.dispatcher.delivered == 1)
        assert up.ids == [rid]
    finally:
        await svc.stop()


async def test_backoff_grows_with_jitter_up_to_the_cap():
    d = Dispatcher(None, new_cipher(), [], backoff_base=1.0, backoff_cap=30.0, lease=60, attempt_timeout=20)
    for attempts, full in [(1, 1), (2, 2), (3, 4), (5, 16), (6, 30), (40, 30)]:
        delays = {d.backoff(attempts) for _ in range(50)}
        assert all(full / 2 <= x <= full for x in delays)
        assert len(delays) > 1  # jittered


async def test_webhook_down_refused_then_500s_then_timeouts_then_back(outbox, tmp_path):
    """The sink down in every way for a while: retried with backoff, health degraded, delivered once when back."""
    r = Receiver()  # not listening yet: connection refused
    sink = WebhookSink(r.url, SECRET, timeout=0.3)
    svc = service(outbox, [sink], alert_seconds=0.2, attempt_timeout=1.0)
    failures_before = sample(metrics.DEFAULT.SINK_FAILURES, sink="webhook")
    await svc.start()
    try:
        rid = await svc.submit(details())
        await eventually(lambda: sample(metrics.DEFAULT.SINK_FAILURES, sink="webhook") >= failures_before + 3)
        await r.start()
        r.mode = "error"
        await eventually(lambda: r.hits >= 2)
        r.mode = "hang"
        hits = r.hits
        await eventually(lambda: r.hits >= hits + 2)
        health = await svc.health()
        assert health["degraded"] is True and health["waiting"] == 1 and health["oldest_waiting_seconds"] > 0.2
        assert health["writable"] is True and health["sinks"] == ["webhook"]
        assert sample(metrics.DEFAULT.CALLBACK_WAITING) == 1 and sample(metrics.DEFAULT.CALLBACK_OLDEST_AGE) > 0.2
        recovered = time.monotonic()
        r.mode = "ok"
        await eventually(lambda: len(r.bodies) >= 1)
        print(f"delivered {time.monotonic() - recovered:.2f}s after the sink recovered (cap {svc.dispatcher.backoff_cap}s)")
        await eventually(lambda: svc.dispatcher.delivered == 1)
        await asyncio.sleep(0.3)  # a duplicate would have arrived by now
        assert r.ids() == [rid]
        health = await svc.health()
        assert health["waiting"] == 0 and health["degraded"] is False
        assert sample(metrics.DEFAULT.CALLBACK_WAITING) == 0 and sample(metrics.DEFAULT.CALLBACK_OLDEST_AGE) == 0
    finally:
        await svc.stop()
        await sink.close()
        await r.stop()


async def test_a_duplicate_post_carries_the_same_id(outbox, receiver):
    """An ack lost on the way (the receiver took it, then answered too late): the retry is the same id."""
    receiver.mode = "slow_ack"
    sink = WebhookSink(receiver.url, SECRET, timeout=0.3)
    svc = service(outbox, [sink])
    await svc.start()
    try:
        rid = await svc.submit(details())
        await eventually(lambda: len(receiver.bodies) >= 2)
        receiver.mode = "ok"
        await eventually(lambda: svc.dispatcher.delivered == 1)
        assert set(receiver.ids()) == {rid}
        assert {h["Idempotency-Key"] for h in receiver.headers} == {rid}
    finally:
        await svc.stop()
        await sink.close()


async def test_a_restart_tries_at_once_ignoring_the_backoff(outbox):
    sink = MemorySink(failing=True)
    cipher = new_cipher()
    first = service(outbox, [sink], cipher, backoff_base=600, backoff_cap=600, lease=30, attempt_timeout=1)
    await first.start()
    rid = await first.submit(details())
    await eventually(lambda: sink.attempts >= 1)
    await first.stop()  # next attempt scheduled ~5-10 minutes away
    sink.failing = False
    second = service(outbox, [sink], cipher, backoff_base=600, backoff_cap=600, lease=30, attempt_timeout=1)
    await second.start()
    try:
        await eventually(lambda: sink.ids == [rid], timeout=5)
    finally:
        await second.stop()


async def test_stop_lets_the_attempt_in_hand_finish(outbox):
    sink = MemorySink(delay=0.5)
    svc = service(outbox, [sink])
    await svc.start()
    rid = await svc.submit(details())
    await eventually(lambda: sink.attempts == 1)
    await svc.stop()
    assert sink.ids == [rid]
    assert svc.dispatcher.delivered == 1


async def test_stop_cuts_a_hung_attempt_and_the_request_stays(outbox, tmp_path):
    sink = MemorySink(delay=60)
    svc = service(outbox, [sink], stop_timeout=0.3, attempt_timeout=2.0)
    await svc.start()
    await svc.submit(details())
    await eventually(lambda: sink.attempts == 1)
    await svc.stop()
    assert not svc.dispatcher.running
    if outbox.kind == "sqlite":
        await outbox.open()  # stop closed it; the row is still there for the next process
    assert (await outbox.backlog()).waiting == 1


async def test_an_unreadable_request_stays_and_is_not_sent(outbox, caplog):
    sink = MemorySink()
    svc = service(outbox, [sink])
    await outbox.add("sealed-under-a-lost-key", time.time(), new_cipher().seal(details()))
    await svc.start()
    try:
        await eventually(lambda: "callback_unreadable" in {getattr(r, "event", "") for r in caplog.records})
        assert sink.received == []
        assert (await outbox.backlog()).waiting == 1
    finally:
        await svc.stop()


@pytest.mark.parametrize("n", [20])
async def test_many_requests_each_delivered_once(outbox, n):
    sink = MemorySink(fail_next=7)
    svc = service(outbox, [sink])
    await svc.start()
    try:
        ids = [await svc.submit(details()) for _ in range(n)]
        await eventually(lambda: svc.dispatcher.delivered == n)
        assert sorted(sink.ids) == sorted(ids)
    finally:
        await svc.stop()
