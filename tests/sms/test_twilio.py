"""SMS through Twilio's webhook: signed as Twilio signs, answered in TwiML, within SMS's limits."""

from __future__ import annotations

import pytest

from bot.conversation.sms import measure
from tests.conftest import CRISIS_LINE
from tests.sms.conftest import PUBLIC_URL, SENDER, Phone


def every_reply_is_safe_for_sms(texts: list[str]) -> None:
    for text in texts:
        assert CRISIS_LINE in text or "999" in text
        assert measure(text).segments <= 3 and measure(text).encoding == "GSM-7", text


async def test_a_whole_conversation_with_a_call_back_to_this_number(twilio):
    phone, runtime = twilio
    texts = await phone.say("hi")
    assert CRISIS_LINE in texts[0] and "2 Ask for a call back" in texts[0]
    texts = await phone.say("2")
    assert "This number" in texts[0]
    for step in ("this number", "1", "1", "1"):
        texts = await phone.say(step)
        every_reply_is_safe_for_sms(texts)
    assert "07700 900321" in texts[0], "the summary shows the number the person is texting from"
    texts = await phone.say("1")
    assert "with the team" in texts[0]
    every_reply_is_safe_for_sms(texts)
    for word in ("end", "cancel", "stop"):
        for text in texts:
            assert f" {word.upper()} " not in f" {text} ", "the bot suggested an opt-out word on SMS"


@pytest.mark.parametrize("word", ["STOP", "End", "cancel", "QUIT", "unsubscribe"])
async def test_an_opt_out_word_ends_the_session_and_sends_nothing(twilio, word):
    phone, runtime = twilio
    await phone.say("hi")
    assert await runtime.store.count() == 1
    assert await phone.say(word) == []
    assert await runtime.store.count() == 0


async def test_twilios_opt_out_type_is_honoured_even_for_other_words(twilio):
    phone, runtime = twilio
    await phone.say("hi")
    assert await phone.say("please stop texting me", OptOutType="STOP") == []
    assert await runtime.store.count() == 0


async def test_start_gets_a_short_answer_with_the_number(twilio):
    phone, _ = twilio
    texts = await phone.say("START")
    assert CRISIS_LINE in texts[0]


async def test_end_inside_a_sentence_is_not_an_opt_out(twilio):
    phone, _ = twilio
    await phone.say("hi")
    texts = await phone.say("i want to end it all")
    assert texts and "999" in texts[0].split("\n")[0] + texts[0], "the emergency reply, not silence"


async def test_a_flood_gets_one_notice_then_silence(twilio):
    phone, runtime = twilio
    answers = [await phone.say("hello") for _ in range(runtime.settings.rate_limit_per_minute + 5)]
    answered = [a for a in answers if a]
    assert len(answered) == runtime.settings.rate_limit_per_minute + 1
    assert CRISIS_LINE in answered[-1][0]


async def test_a_repeated_message_sid_is_answered_once(twilio):
    phone, _ = twilio
    params = phone.payload("hi")
    first = await phone.post(params)
    second = await phone.post(params)
    from tests.sms.conftest import twiml_messages

    assert twiml_messages(await first.text()) and twiml_messages(await second.text()) == []


async def test_a_missing_or_wrong_signature_gets_403_and_nothing_happens(twilio):
    phone, runtime = twilio
    params = phone.payload("hi")
    assert (await phone.post(params, signature="")).status == 403
    assert (await phone.post(params, signature="bm90IGEgc2lnbmF0dXJl")).status == 403
    params2 = phone.payload("hi")
    tampered = dict(params2, Body="something else")
    sig = phone.validator.compute_signature(phone.url, params2)
    assert (await phone.post(tampered, signature=sig)).status == 403
    assert await runtime.store.count() == 0


async def test_the_signature_is_checked_against_the_public_url_behind_a_proxy(twilio):
    phone, _ = twilio
    local = Phone(phone.client, url=str(phone.client.make_url("/sms/twilio")))  # what the bot sees, not what Twilio called
    assert (await local.post(local.payload("hi"))).status == 403
    assert phone.url.startswith(PUBLIC_URL)
    assert (await phone.post(phone.payload("hi"))).status == 200


@pytest.mark.parametrize("body", ["", "x" * 2000, "hi\x00\x07\x1b there", "🙂🙂🙂"])
async def test_odd_bodies_get_a_sensible_answer(twilio, body):
    phone, _ = twilio
    texts = await phone.say(body)
    assert texts and all(CRISIS_LINE in t or "999" in t for t in texts)
    every_reply_is_safe_for_sms(texts)


@pytest.mark.parametrize("sender", ["", "not-a-number", "+1"])
async def test_a_malformed_sender_gets_400(twilio, sender):
    phone, _ = twilio
    p = Phone(phone.client, sender=sender)
    assert (await p.post(p.payload("hi"))).status == 400


async def test_a_foreign_sender_is_answered_but_not_offered_this_number(twilio):
    phone, _ = twilio
    p = Phone(phone.client, sender="+12025550143")
    await p.say("hi")
    texts = await p.say("this number")
    assert texts and CRISIS_LINE in texts[0]
    assert "with the team" not in texts[0]


async def test_a_malformed_form_gets_400_not_500(twilio):
    phone, _ = twilio
    resp = await phone.client.post("/sms/twilio", data=b"\xff\xfe not a form", headers={"Content-Type": "multipart/form-data; boundary=x", "X-Twilio-Signature": "x"})
    assert resp.status in (400, 403)
    assert SENDER not in await resp.text()


def test_the_flow_check_refuses_an_sms_text_that_suggests_an_opt_out_word(flows_copy):
    from bot.conversation.flowcheck import check_flow

    path = flows_copy / "conversation.yaml"
    path.write_text(path.read_text().replace("type WITHDRAW MY CALL BACK", "type CANCEL"))
    assert any("opt-out" in str(f) and "callback_sent" in str(f) for f in check_flow(flows_copy))
