"""GOV.UK Notify behind the same interface: a bearer-token callback in, JWT-signed API calls out."""

from __future__ import annotations

import uuid

from tests.conftest import CRISIS_LINE
from tests.sms.conftest import NOTIFY_CALLBACK_TOKEN, TEMPLATE

AUTH = {"Authorization": f"Bearer {NOTIFY_CALLBACK_TOKEN}"}


def received(message: str, number: str = "447700900432") -> dict:
    return {"id": str(uuid.uuid4()), "source_number": number, "destination_number": "07700900999", "message": message, "date_received": "2026-11-22T02:14:00.000000Z", "notification_id": str(uuid.uuid4())}


async def test_a_received_text_is_answered_through_the_api_with_the_template(notify):
    client, _, fake = notify
    resp = await client.post("/sms/notify", json=received("hi"), headers=AUTH)
    assert resp.status == 200
    assert fake.sent and fake.sent[0]["phone_number"] == "+447700900432" and fake.sent[0]["template_id"] == TEMPLATE
    assert CRISIS_LINE in fake.sent[0]["personalisation"]["body"]


async def test_a_call_back_to_this_number_over_notify(notify):
    client, _, fake = notify
    for text in ("hi", "2", "this number", "1", "1", "1", "1"):
        assert (await client.post("/sms/notify", json=received(text), headers=AUTH)).status == 200
    assert "with the team" in fake.sent[-1]["personalisation"]["body"]


async def test_a_retried_callback_is_answered_once(notify):
    client, _, fake = notify
    payload = received("hi")
    for _ in range(3):
        assert (await client.post("/sms/notify", json=payload, headers=AUTH)).status == 200
    assert len(fake.sent) == 1


async def test_a_wrong_or_missing_token_gets_403_and_nothing_is_sent(notify):
    client, runtime, fake = notify
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": NOTIFY_CALLBACK_TOKEN}):
        assert (await client.post("/sms/notify", json=received("hi"), headers=headers)).status == 403
    assert fake.sent == [] and await runtime.store.count() == 0


async def test_malformed_callbacks_get_400(notify):
    client, _, fake = notify
    assert (await client.post("/sms/notify", data=b"{not json", headers=AUTH)).status == 400
    assert (await client.post("/sms/notify", json={"message": "hi"}, headers=AUTH)).status == 400
    assert (await client.post("/sms/notify", json=received("hi", number="abc"), headers=AUTH)).status == 400
    assert fake.sent == []
