"""/healthz and /readyz: each state the on-call team can meet, and nothing secret in the answer."""

from __future__ import annotations

import json

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.config import load
from bot.conversation.events import Channel, Inbound
from bot.runtime import open_runtime
from bot.web import health
from bot.web.app import create_app
from bot.web.readiness import Check, register_check
from tests.conftest import FAKE_MOBILE, FAKE_MOBILE_E164
from tests.oncall.conftest import FakeCallbacks, env, serve

pytestmark = pytest.mark.asyncio


async def readyz(served):
    resp = await served.client.get("/readyz")
    return resp.status, await resp.json()


async def test_healthz_is_liveness_only(served):
    served.runtime.store.ping_mode = "false"  # a broken store does not make the process dead
    resp = await served.client.get("/healthz")
    assert resp.status == 200 and (await resp.json()) == {"status": "ok"}


async def test_ready_names_each_check_and_its_state(served):
    status, body = await readyz(served)
    assert status == 200 and body["status"] == "ready"
    checks = body["checks"]
    assert checks["session_store"] == {"ok": True, "state": "ok", "kind": "SwitchableStore"}
    # The embedded default has no sink: readiness says so, and it is not a failure.
    assert checks["callbacks"]["state"] == "no_sink" and checks["callbacks"]["ok"] is True
    assert checks["config"]["state"] == "ok"


@pytest.mark.parametrize("mode", ["false", "raise"])
async def test_store_down_is_not_ready(served, mode):
    served.runtime.store.ping_mode = mode
    status, body = await readyz(served)
    assert status == 503 and body["status"] == "not_ready"
    assert body["checks"]["session_store"]["state"] == "down"


async def test_a_hanging_store_times_out_and_readyz_still_answers(served, monkeypatch):
    monkeypatch.setattr(health, "CHECK_TIMEOUT_SECONDS", 0.2)
    served.runtime.store.ping_mode = "hang"
    status, body = await readyz(served)
    assert status == 503
    assert body["checks"]["session_store"] == {"ok": False, "state": "timeout", "timeout_seconds": 0.2}
    assert body["checks"]["config"]["ok"] is True  # the others still answered


async def test_callback_waiting_too_long_is_degraded_not_down(tmp_path):
    late = FakeCallbacks(waiting=2, oldest_waiting_seconds=301.0)
    async with serve(tmp_path, callbacks=late, FRONTDOOR_CALLBACK_ALERT_SECONDS="300") as s:
        status, body = await readyz(s)
    assert status == 200 and body["status"] == "degraded"
    cb = body["checks"]["callbacks"]
    assert cb["state"] == "overdue" and cb["waiting"] == 2 and cb["oldest_waiting_seconds"] == 301 and cb["alert_after_seconds"] == 300


async def test_callbacks_delivering_is_ready(tmp_path):
    async with serve(tmp_path, callbacks=FakeCallbacks(waiting=1, oldest_waiting_seconds=5.0)) as s:
        status, body = await readyz(s)
    assert status == 200 and body["status"] == "ready" and body["checks"]["callbacks"]["state"] == "ok"


async def test_outbox_not_writable_is_not_ready(tmp_path):
    async with serve(tmp_path, callbacks=FakeCallbacks(writable=False)) as s:
        status, body = await readyz(s)
    assert status == 503 and body["checks"]["callbacks"]["state"] == "outbox_down"


async def test_a_registered_check_that_raises_is_named_and_fails(tmp_path):
    runtime = await open_runtime(load(env(tmp_path)))
    app = create_app(runtime)

    async def broken() -> Check:
        raise RuntimeError("boom")

    broken.check_name = "widget"  # type: ignore[attr-defined]

    async def fine() -> Check:
        return Check("telegram_webhook", True, "degraded", {"pending_updates": 150})

    register_check(app, broken)
    register_check(app, fine)
    async with TestClient(TestServer(app)) as client:
        resp = await client.get("/readyz")
        body = await resp.json()
    assert resp.status == 503
    assert body["checks"]["widget"] == {"ok": False, "state": "error"}
    assert body["checks"]["telegram_webhook"]["state"] == "degraded"


async def test_incomplete_configuration_names_the_variable_not_its_value(tmp_path):
    async with serve(tmp_path, FRONTDOOR_TELEGRAM_STAFF_CHAT_ID="-100200300") as s:
        status, body = await readyz(s)
    assert status == 503
    assert body["checks"]["config"]["state"] == "incomplete"
    assert body["checks"]["config"]["missing"] == "FRONTDOOR_TELEGRAM_TOKEN"
    assert "-100200300" not in json.dumps(body)


async def test_readyz_carries_no_secret(tmp_path):
    secrets = {
        "FRONTDOOR_HASH_SECRET": "hash-secret-canary-0123456789",
        "FRONTDOOR_METRICS_TOKEN": "metrics-token-canary-0123456789",
        "FRONTDOOR_CALLBACK_WEBHOOK_URL": "https://team.example/hook?k=url-canary",
        "FRONTDOOR_CALLBACK_WEBHOOK_SECRET": "webhook-secret-canary-0123456789",
    }
    async with serve(tmp_path, callbacks=FakeCallbacks(), **secrets) as s:
        resp = await s.client.get("/readyz")
        text = await resp.text()
    assert resp.status == 200
    for value in secrets.values():
        assert value not in text
    assert "canary" not in text


async def test_shutting_down_is_not_ready(served):
    served.client.app[health.READINESS].shutting_down = True
    status, body = await readyz(served)
    assert status == 503 and body == {"status": "shutting_down", "checks": {}}


class RefusingSink:
    """A sink whose receiver is down: every delivery attempt fails, so the request waits."""

    name = "webhook"

    async def deliver(self, request) -> None:
        raise ConnectionRefusedError("receiver down")


async def test_a_real_outbox_with_a_request_waiting_too_long(tmp_path):
    """The real callback service (SQLite outbox, dispatcher): a confirmed request that can't be delivered."""
    from bot.callbacks.service import open_callback_service

    now = [1_800_000_000.0]
    settings = load(env(tmp_path, FRONTDOOR_CALLBACK_ALERT_SECONDS="300"))
    service = await open_callback_service(settings, sinks=[RefusingSink()], clock=lambda: now[0])
    async with serve(tmp_path, callbacks=service, FRONTDOOR_CALLBACK_ALERT_SECONDS="300") as s:
        key = s.runtime.key(Channel.TERMINAL.value, "probe-person")
        for text in ("hi", "2", FAKE_MOBILE, "1", "1", "1"):
            await s.runtime.gateway.handle(Channel.TERMINAL, key, Inbound.typed(Channel.TERMINAL, text))
        confirmed = await s.runtime.gateway.handle(Channel.TERMINAL, key, Inbound.typed(Channel.TERMINAL, "1"))
        assert "with the team" in confirmed.replies[0].text
        status, body = await readyz(s)
        assert status == 200 and body["checks"]["callbacks"]["state"] == "ok" and body["checks"]["callbacks"]["waiting"] == 1
        now[0] += 301  # five minutes and a second later, still undelivered
        status, body = await readyz(s)
        metrics_text = await (await s.client.get("/metrics")).text()
    assert status == 200 and body["status"] == "degraded"
    callbacks = body["checks"]["callbacks"]
    assert callbacks["state"] == "overdue" and callbacks["oldest_waiting_seconds"] >= 301
    assert callbacks["sinks"] == "webhook" and callbacks["outbox"] == "sqlite"
    assert "frontdoor_readiness_check_degraded{check=\"callbacks\"} 1.0" in metrics_text
    assert FAKE_MOBILE_E164 not in json.dumps(body) + metrics_text
