"""docs/callbacks.md's webhook receiver, run as written against the real webhook sink."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.callbacks.base import CallbackRequest
from bot.callbacks.webhook_sink import WebhookRejected, WebhookSink, payload
from tests.callbacks.conftest import SECRET, details

DOC = Path(__file__).resolve().parents[2] / "docs" / "callbacks.md"


def receiver_example() -> str:
    text = DOC.read_text(encoding="utf-8")
    match = re.search(r"<!-- example: webhook receiver -->\s*```python\n(.*?)```", text, re.S)
    assert match, "docs/callbacks.md lost its receiver example"
    return match.group(1)


@pytest.fixture
async def docs_receiver(monkeypatch):
    monkeypatch.setenv("CALLBACK_WEBHOOK_SECRET", SECRET)
    namespace: dict = {"__name__": "docs_example"}
    exec(compile(receiver_example(), str(DOC), "exec"), namespace)
    queued: list[dict] = []
    namespace["queue_for_counsellor"] = queued.append
    client = TestClient(TestServer(namespace["app"]))
    await client.start_server()
    yield client, queued
    await client.close()


async def test_the_documented_receiver_takes_a_signed_request_once(docs_receiver):
    client, queued = docs_receiver
    url = str(client.make_url("/frontdoor/callbacks"))
    request = CallbackRequest("2f1c9a1e-6a0b-4a3e-9d55-0c3c2f3e7b41", time.time(), details(name="Sam"))
    sink = WebhookSink(url, SECRET)
    try:
        await sink.deliver(request)
        await sink.deliver(request)  # a retry: acknowledged, kept once
    finally:
        await sink.close()
    assert queued == [json.loads(json.dumps(payload(request)))]


async def test_the_documented_receiver_refuses_a_wrong_secret_and_a_replay(docs_receiver):
    client, queued = docs_receiver
    url = str(client.make_url("/frontdoor/callbacks"))
    request = CallbackRequest("r-1", time.time(), details())
    sink = WebhookSink(url, "another-secret-0123456789")
    with pytest.raises(WebhookRejected, match="401"):
        await sink.deliver(request)
    await sink.close()
    body = json.dumps(payload(request)).encode()
    old = str(int(time.time()) - 3600)
    signed = "sha256=" + hmac.new(SECRET.encode(), old.encode() + b"." + body, hashlib.sha256).hexdigest()
    resp = await client.post("/frontdoor/callbacks", data=body, headers={"Frontdoor-Timestamp": old, "Frontdoor-Signature": signed})
    assert resp.status == 401
    resp = await client.post("/frontdoor/callbacks", data=body)
    assert resp.status == 401
    assert queued == []


def test_the_documented_payload_has_the_sinks_fields():
    text = DOC.read_text(encoding="utf-8")
    documented = json.loads(re.search(r"```json\n(\{\n.*?\})\n```", text, re.S).group(1))
    sent = payload(CallbackRequest("x", 0.0, details(name="Sam")))
    assert set(documented) == set(sent)
