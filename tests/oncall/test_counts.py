"""Every message counts once in frontdoor_messages_in_total, on every channel: exact counts, own registry.

The dashboard and the runbook read this counter. On d346469 one SMS counted
twice (the Twilio and Notify adapters counted it, then the gateway did) and
the test that should have caught it checked ``>= 9`` against the process's
global registry. Here each app counts into a fresh :class:`Metrics`, so the
figures are exact, and a provider's retry is counted as a duplicate, not a message.
"""

from __future__ import annotations

import json

import aiohttp

from bot.metrics import Metrics
from tests.sms.conftest import FakeNotify, NOTIFY_CALLBACK_TOKEN, NOTIFY_KEY, TEMPLATE, Phone, sms_app, sid
from tests.sms.test_notify import AUTH, received
from tests.telegram.chat import Person
from tests.telegram.conftest import fake_api, running_bot  # noqa: F401 - fake_api is a fixture
from tests.webchat.conftest import serve


def messages_in(metrics: Metrics, channel: str) -> float:
    return metrics.value("frontdoor_messages_in_total", channel=channel)


async def test_twilio_counts_each_text_once_and_a_retry_as_a_duplicate(tmp_path):
    metrics = Metrics()
    async with sms_app(tmp_path, metrics=metrics) as (client, _):
        phone = Phone(client)
        for text in ("hi", "2", "menu"):
            await phone.say(text)
        retried = phone.payload("support", MessageSid=sid())
        for _ in range(2):
            assert (await phone.post(retried)).status == 200
    assert messages_in(metrics, "sms") == 4
    assert metrics.value("frontdoor_duplicates_total", channel="sms") == 1


async def test_notify_counts_each_text_once(tmp_path):
    metrics = Metrics()
    fake = FakeNotify()
    await fake.start()
    try:
        async with sms_app(
            tmp_path, metrics=metrics, FRONTDOOR_NOTIFY_API_KEY=NOTIFY_KEY, FRONTDOOR_NOTIFY_CALLBACK_TOKEN=NOTIFY_CALLBACK_TOKEN,
            FRONTDOOR_NOTIFY_TEMPLATE_ID=TEMPLATE, FRONTDOOR_NOTIFY_BASE_URL=fake.url,
        ) as (client, _):
            for text in ("hi", "2", "menu"):
                assert (await client.post("/sms/notify", json=received(text), headers=AUTH)).status == 200
    finally:
        await fake.stop()
    assert messages_in(metrics, "sms") == 3


async def test_web_chat_counts_each_frame_once(tmp_path):
    metrics = Metrics()
    async with serve(tmp_path, metrics=metrics) as served:
        async with aiohttp.ClientSession() as http:
            async with http.ws_connect(served.url + "chat/ws", headers={"Origin": served.url.rstrip("/")}) as ws:
                await ws.send_json({"type": "start"})
                for text in ("hi", "menu"):
                    await ws.send_json({"type": "message", "text": text})
                replies = 0
                while replies < 3:
                    if json.loads((await ws.receive(timeout=5)).data)["type"] == "replies":
                        replies += 1
    assert messages_in(metrics, "web") == 3


async def test_telegram_counts_each_update_once(tmp_path, fake_api):
    metrics = Metrics()
    async with running_bot(tmp_path, fake_api, metrics=metrics) as bot:
        person = Person(bot)
        await person.say("/start")
        await person.tap("support")
        await person.say("menu")
    assert messages_in(metrics, "telegram") == 3
