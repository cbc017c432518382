"""A flood of one event writes a few lines, not one per message, and still says how many it held back.

An unpaced flood once wrote 435,604 "degraded" warnings (48 MB) in a minute.
The limit sits on the root handler (bot/logs.py), so these tests go through
``configure_logging`` and count the lines it writes.
"""

from __future__ import annotations

import io
import json
import logging

import pytest

from bot.config import load
from bot.conversation.events import Channel, Inbound
from bot.gateway import Gateway
from bot.logs import configure_logging
from bot.stores.base import StoreUnavailable
from tests.conftest import CRISIS_LINE, AcceptingOutbox, make_engine

gateway_log = logging.getLogger("bot.gateway")
CANARY = "canary-51e2 nobody would notice if I was gone"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def logged():
    """``logged(**kwargs)`` installs the real logging configuration and returns a function giving the lines written."""
    stream = io.StringIO()

    def install(**kwargs):
        settings = load({"FRONTDOOR_ENV": "production", "FRONTDOOR_HASH_SECRET": "s" * 32, "FRONTDOOR_ENCRYPTION_KEY": "k" * 43 + "="})
        configure_logging(settings, stream, **kwargs)
        return lambda: [json.loads(line) for line in stream.getvalue().splitlines()]

    yield install
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.setLevel(logging.WARNING)


def degraded(channel: str = "sms") -> None:
    gateway_log.warning("session store unavailable; answered in degraded mode", extra={"event": "degraded", "channel": channel})


def test_ten_thousand_degraded_warnings_write_a_handful_of_lines(logged):
    lines = logged()
    for _ in range(10_000):
        degraded()
    written = lines()
    assert 1 <= len(written) <= 5
    assert written[0]["event"] == "degraded" and "suppressed" not in written[0]  # the first one goes out as it is


def test_the_line_after_the_interval_says_how_many_were_held_back(logged):
    clock = FakeClock()
    lines = logged(clock=clock)
    for _ in range(10_000):
        degraded()
    clock.now += 10.0
    degraded()
    written = lines()
    assert len(written) == 2
    assert written[1]["suppressed"] == 9_999
    clock.now += 10.0
    degraded()
    assert "suppressed" not in lines()[2]  # nothing was held back since the last one


def test_at_most_one_line_per_event_per_interval_through_a_long_flood(logged):
    clock = FakeClock()
    lines = logged(clock=clock)
    for _ in range(600):  # a minute, a record every 0.1 s
        degraded()
        clock.now += 0.1
    written = lines()
    assert 5 <= len(written) <= 7
    assert sum(line.get("suppressed", 0) for line in written) + len(written) <= 600


def test_distinct_events_do_not_hold_each_other_back(logged):
    lines = logged()
    for _ in range(1_000):
        degraded()
        gateway_log.warning("session could not be saved", extra={"event": "save_failed"})
        gateway_log.warning("could not record sent message ids", extra={"event": "remember_failed"})
    events = [line["event"] for line in lines()]
    assert sorted(events) == ["degraded", "remember_failed", "save_failed"]


def test_errors_are_limited_on_their_own_so_a_warning_flood_cannot_hide_them(logged):
    lines = logged()
    for _ in range(1_000):
        degraded()
    for _ in range(1_000):
        gateway_log.error("message failed; answered in degraded mode", extra={"event": "degraded"})
    written = lines()
    assert [line["level"] for line in written] == ["WARNING", "ERROR"]


def test_records_without_an_event_are_not_limited(logged):
    lines = logged()
    for _ in range(200):
        logging.getLogger("aiohttp.server").warning("Error handling request from %s", "203.0.113.9")
    written = lines()
    assert len(written) == 200 and not any("suppressed" in line for line in written)


def test_memory_and_output_stay_bounded_however_many_event_names(logged):
    import tracemalloc

    clock = FakeClock()
    lines = logged(clock=clock)
    tracemalloc.start()
    try:
        for i in range(20_000):
            gateway_log.warning("x", extra={"event": f"e{i}"})
        settled, _ = tracemalloc.get_traced_memory()
        for i in range(20_000, 120_000):
            gateway_log.warning("x", extra={"event": f"e{i}"})
        grown, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert grown - settled < 64 * 1024  # neither the filter's table nor the output (a StringIO here) kept growing
    assert len(lines()) < 20_000  # past the cap, unknown names share one limit instead of each writing
    clock.now += 10.0
    before = len(lines())
    for i in range(120_000, 120_100):
        gateway_log.warning("x", extra={"event": f"e{i}"})
    assert len(lines()) - before > 50  # names quiet for an interval make room for new ones


class DownStore:
    """A session store that is down: every call raises StoreUnavailable, as Redis does when unreachable."""

    async def begin(self, key, **kwargs):
        raise StoreUnavailable("down")

    async def seen_once(self, name, ttl):
        raise StoreUnavailable("down")

    async def hit(self, key, limit, window_seconds):
        raise StoreUnavailable("down")

    async def load(self, key):
        raise StoreUnavailable("down")

    async def save(self, key, session):
        raise StoreUnavailable("down")

    async def delete(self, key):
        raise StoreUnavailable("down")

    def lock(self, key):
        raise StoreUnavailable("down")

    async def pop_idle(self, now, idle_seconds):
        raise StoreUnavailable("down")

    async def ping(self):
        return False

    async def count(self):
        raise StoreUnavailable("down")

    async def close(self):
        pass


async def test_a_thousand_messages_with_the_store_down_write_a_few_lines_and_every_reply_has_the_number(logged):
    lines = logged()
    gw = Gateway(make_engine(), DownStore(), AcceptingOutbox(), rate_limit_per_minute=10)
    texts = ("hi", CANARY, "can someone call me back", "i want to end my life")
    replies = []
    for i in range(1_000):
        delivery = await gw.handle(Channel.SMS, f"sms:{i % 50}", Inbound.typed(Channel.SMS, texts[i % len(texts)]))
        replies.append(" ".join(r.text for r in delivery.replies))
    assert all(CRISIS_LINE in text for text in replies)
    written = lines()
    assert 1 <= len(written) <= 5 and {line["event"] for line in written} == {"degraded"}
    assert "canary" not in json.dumps(written)
