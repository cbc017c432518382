"""/metrics: Prometheus text, counts and states only, optionally behind a bearer token."""

from __future__ import annotations

import asyncio
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot import metrics
from bot.conversation.events import Channel, Inbound
from bot.web.loop_lag import measure_forever
from tests.conftest import FAKE_MOBILE, FAKE_MOBILE_E164
from tests.oncall.conftest import FakeCallbacks, serve

CANARY = "zebra-canary-7731 my neighbour Ms Quillfeather"
RAW_CHAT_ID = "web-chat-id-canary-991"


def families(text: str) -> dict:
    return {f.name: f for f in text_string_to_metric_families(text)}


def value(text: str, sample_name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == sample_name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    raise AssertionError(f"{sample_name} {labels} not exported")


async def scrape(served, **headers) -> str:
    resp = await served.client.get("/metrics", headers=headers)
    assert resp.status == 200, resp.status
    assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return await resp.text()


async def test_every_metric_is_named_frontdoor(served):
    text = await scrape(served)
    names = families(text)
    assert names and all(n.startswith("frontdoor_") for n in names)
    for expected in (
        "frontdoor_messages_in",
        "frontdoor_reply_latency_seconds",
        "frontdoor_active_sessions",
        "frontdoor_callback_oldest_waiting_seconds",
        "frontdoor_event_loop_lag_seconds",
        "frontdoor_ready",
        "frontdoor_readiness_check_ok",
    ):
        assert expected in names


async def test_no_canary_after_a_whole_conversation(tmp_path):
    """Text, a phone number and a raw id go in; only counts come out."""
    outbox = FakeCallbacks()
    async with serve(tmp_path, callbacks=outbox) as s:
        gw, key = s.runtime.gateway, s.runtime.key(Channel.TERMINAL.value, RAW_CHAT_ID)
        for text in (CANARY, "2", FAKE_MOBILE, "1", "1", "1", "1", CANARY, "end"):
            await gw.handle(Channel.TERMINAL, key, Inbound.typed(Channel.TERMINAL, text))
        text = await scrape(s)
    assert outbox.submitted and outbox.submitted[0].phone == FAKE_MOBILE_E164  # the whole path ran
    assert value(text, "frontdoor_messages_in_total", channel="terminal") >= 9
    for leak in ("zebra", "canary", "Quillfeather", FAKE_MOBILE, FAKE_MOBILE_E164, "7700900123", RAW_CHAT_ID, key, key.split(":")[1]):
        assert leak not in text, leak


async def test_active_sessions_is_counted_at_scrape(served):
    gw = served.runtime.gateway
    for n in range(3):
        await gw.handle(Channel.WEB, served.runtime.key("web", f"person-{n}"), Inbound.typed(Channel.WEB, "hi"))
    assert value(await scrape(served), "frontdoor_active_sessions") == 3
    await gw.end(served.runtime.key("web", "person-0"), "user")
    assert value(await scrape(served), "frontdoor_active_sessions") == 2


async def test_readiness_and_callback_gauges_follow_the_checks(tmp_path):
    late = FakeCallbacks(waiting=3, oldest_waiting_seconds=900.0)
    async with serve(tmp_path, callbacks=late) as s:
        text = await scrape(s)
        assert value(text, "frontdoor_callback_waiting") == 3
        assert value(text, "frontdoor_callback_oldest_waiting_seconds") == 900
        assert value(text, "frontdoor_ready") == 1  # overdue is degraded, still ready
        s.runtime.store.ping_mode = "false"
        text = await scrape(s)
        assert value(text, "frontdoor_ready") == 0
        assert value(text, "frontdoor_readiness_check_ok", check="session_store") == 0
        assert value(text, "frontdoor_readiness_check_ok", check="callbacks") == 1


TOKEN = "metrics-token-for-tests-0123456789"


@pytest.mark.parametrize(
    "header",
    [None, "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x", f"bearer{TOKEN}", TOKEN, f"Bearer {TOKEN[:-1]}"],
)
async def test_token_is_required_when_set(tmp_path, header):
    async with serve(tmp_path, FRONTDOOR_METRICS_TOKEN=TOKEN) as s:
        resp = await s.client.get("/metrics", headers={"Authorization": header} if header else {})
        body = await resp.text()
    assert resp.status == 401 and resp.headers["WWW-Authenticate"] == "Bearer"
    assert "frontdoor_" not in body and TOKEN not in body


async def test_openmetrics_when_prometheus_asks_for_it(served):
    resp = await served.client.get("/metrics", headers={"Accept": "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"})
    assert resp.status == 200 and resp.headers["Content-Type"].startswith("application/openmetrics-text")
    assert (await resp.text()).rstrip().endswith("# EOF")


async def test_the_right_token_gets_metrics(tmp_path):
    async with serve(tmp_path, FRONTDOOR_METRICS_TOKEN=TOKEN) as s:
        text = await scrape(s, Authorization=f"Bearer {TOKEN}")
        health = await s.client.get("/healthz")  # the token guards /metrics only
    assert "frontdoor_messages_in" in text and health.status == 200


async def test_loop_lag_sees_a_blocked_loop():
    """A synchronous stall shows up as lag at least as long as the stall, less one interval."""
    metrics.DEFAULT.EVENT_LOOP_LAG.set(0)
    sampler = asyncio.create_task(measure_forever(interval=0.01, window=1000))
    await asyncio.sleep(0.05)
    time.sleep(0.3)  # block the loop on purpose
    await asyncio.sleep(0.05)
    sampler.cancel()
    assert metrics.DEFAULT.EVENT_LOOP_LAG._value.get() >= 0.25
