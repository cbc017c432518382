"""Every POST endpoint, sent bytes that are not UTF-8: a 4xx or its normal answer, never a 5xx.

One app with every channel the tests switch on (the embedded default's web
chat, Telegram's webhook, Twilio and Notify), each request carrying the right
credential so it gets past the door and reaches the body parsing. The route
table is checked against the cases, so a new POST endpoint can't be missed.
"""

from __future__ import annotations

import contextlib
from typing import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer
from twilio.request_validator import RequestValidator

from bot.config import load
from bot.runtime import open_runtime
from bot.web.app import create_app
from tests.sms.conftest import (
    AUTH_TOKEN,
    NOTIFY_CALLBACK_TOKEN,
    NOTIFY_KEY,
    OUR_NUMBER,
    PUBLIC_URL,
    SENDER,
    TEMPLATE,
    FakeNotify,
)
from tests.telegram.conftest import WEBHOOK_SECRET, settings_env
from tests.telegram.fake_bot_api import FakeBotAPI

BAD = b"\xff\xfe\x80\xc3("  # not UTF-8: a stray continuation byte, a truncated sequence
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
TEXT = "text/plain;charset=UTF-8"
NONE = ""  # no Content-Type at all


def _twilio_signature(params: dict[str, str]) -> str:
    return RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_URL + "/sms/twilio", params)


def _twilio_form(body: str) -> tuple[bytes, dict[str, str]]:
    """A Twilio form whose Body is percent-encoded bytes that aren't UTF-8, signed as the server
    will read it (undecodable bytes become U+FFFD), so it gets past the signature."""
    raw = f"From=%2B447700900321&To=%2B447700900999&MessageSid=SM{'1' * 32}&Body={body}".encode()
    params = {"From": SENDER, "To": OUR_NUMBER, "MessageSid": "SM" + "1" * 32, "Body": bytes.fromhex(body.replace("%", "")).decode("utf-8", "replace")}
    return raw, {"X-Twilio-Signature": _twilio_signature(params)}


def _cases():
    tg = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
    notify = {"Authorization": f"Bearer {NOTIFY_CALLBACK_TOKEN}"}
    twilio_any = {"X-Twilio-Signature": _twilio_signature({})}
    raw_cases = []
    for path, headers, types in (
        ("/chat/exit", {}, (NONE, TEXT, "text/plain;charset=nonsense")),
        ("/telegram/webhook", tg, (JSON, NONE, "application/json;charset=nonsense")),
        ("/sms/twilio", twilio_any, (FORM, NONE, "application/x-www-form-urlencoded;charset=nonsense", "multipart/form-data; boundary=x")),
        ("/sms/notify", notify, (JSON, NONE, "application/json;charset=nonsense")),
    ):
        for kind in types:
            raw_cases.append(pytest.param(path, BAD, headers, kind, id=f"{path}-raw-{kind or 'none'}"))
    # The bad bytes inside a body that is otherwise well-formed: a JSON string, a form value,
    # and the JSON escape for half a surrogate pair (valid JSON, not encodable as UTF-8).
    update = b'{"update_id": 90001, "message": {"message_id": 1, "date": 0, "chat": {"id": 770090001, "type": "private"}, "from": {"id": 770090001, "is_bot": false, "first_name": "A"}, "text": "%s"}}'
    sms = b'{"id": "n-1", "source_number": "447700900321", "destination_number": "447700900999", "message": "%s"}'
    inner = [
        pytest.param("/telegram/webhook", update % BAD, tg, JSON, id="telegram-json-bad-bytes"),
        pytest.param("/telegram/webhook", update % b"\\ud800 hi", tg, JSON, id="telegram-json-lone-surrogate"),
        pytest.param("/sms/notify", sms % BAD, notify, JSON, id="notify-json-bad-bytes"),
        pytest.param("/sms/notify", sms % b"\\ud800 hi", notify, JSON, id="notify-json-lone-surrogate"),
        pytest.param("/sms/notify", b'{"id": "n-2", "source_number": "\\udfff", "message": "hi"}', notify, JSON, id="notify-json-surrogate-sender"),
        pytest.param("/chat/exit", b"\\ud800", {}, TEXT, id="exit-escaped-text"),
    ]
    for label, encoded in (("bad-bytes", "%FF%FE%80"), ("surrogate-bytes", "%ED%A0%80")):
        raw, headers = _twilio_form(encoded)
        inner.append(pytest.param("/sms/twilio", raw, headers, FORM, id=f"twilio-form-{label}"))
    return raw_cases + inner


CASES = _cases()


@contextlib.asynccontextmanager
async def every_channel(tmp_path) -> AsyncIterator[TestClient]:
    fake_tg, fake_notify = FakeBotAPI(), FakeNotify()
    await fake_tg.start()
    await fake_notify.start()
    env = settings_env(
        tmp_path,
        fake_tg.url,
        FRONTDOOR_HASH_SECRET="p" * 32,
        FRONTDOOR_TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        FRONTDOOR_PUBLIC_URL=PUBLIC_URL,
        FRONTDOOR_NOTIFY_API_KEY=NOTIFY_KEY,
        FRONTDOOR_NOTIFY_CALLBACK_TOKEN=NOTIFY_CALLBACK_TOKEN,
        FRONTDOOR_NOTIFY_TEMPLATE_ID=TEMPLATE,
        FRONTDOOR_NOTIFY_BASE_URL=fake_notify.url,
    )
    runtime = await open_runtime(load(env))
    client = TestClient(TestServer(create_app(runtime)))
    await client.start_server()
    try:
        from bot.channels.telegram import TELEGRAM

        await fake_tg.wait_for(lambda: client.app[TELEGRAM].ready)
        yield client
    finally:
        await client.close()
        await fake_notify.stop()
        await fake_tg.stop()


async def test_the_cases_cover_every_post_endpoint(tmp_path):
    async with every_channel(tmp_path) as client:
        posts = {r.resource.canonical for r in client.app.router.routes() if r.method == "POST"}
    assert posts == {c.values[0] for c in CASES}


@pytest.mark.parametrize("path, body, headers, content_type", CASES)
async def test_bytes_that_are_not_utf8_never_get_a_5xx(tmp_path, path, body, headers, content_type):
    async with every_channel(tmp_path) as client:
        h = dict(headers)
        if content_type:
            h["Content-Type"] = content_type
        resp = await client.post(path, data=body, headers=h, skip_auto_headers=["Content-Type"])
        text = await resp.text()
        assert resp.status < 500, (resp.status, text[:200])
        assert "Traceback" not in text
        assert (await client.get("/healthz")).status == 200
