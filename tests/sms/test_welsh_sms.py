"""A whole conversation in Welsh over SMS, through Twilio's signed webhook, with a call back request.

Welsh letters are not in GSM-7, so some replies go as UCS-2 (67 characters a
segment); every reply still fits three segments and keeps its accents.
"""

from __future__ import annotations

import json

from bot.conversation.sms import measure
from tests.conftest import CRISIS_LINE
from tests.sms.conftest import Phone, sms_app
from tests.support import callback_receiver, eventually

SECRET = "callback-webhook-secret-0123456789"


def within_three_segments_with_the_number(texts: list[str]) -> None:
    for text in texts:
        assert CRISIS_LINE in text or "999" in text, text
        assert measure(text).segments <= 3, (measure(text), text)


async def test_a_welsh_call_back_request_by_sms_and_a_switch_to_english(tmp_path):
    async with callback_receiver() as (url, received):
        async with sms_app(tmp_path, FRONTDOOR_LANGUAGES="en,cy", FRONTDOOR_RATE_LIMIT_PER_MINUTE="60", FRONTDOOR_CALLBACK_WEBHOOK_URL=url, FRONTDOOR_CALLBACK_WEBHOOK_SECRET=SECRET) as (client, _runtime):
            phone = Phone(client)
            seen: list[str] = []
            texts = await phone.say("Shwmae")
            assert "Gwasanaeth awtomataidd" in texts[0] and "2 Gofyn am alwad" in texts[0]
            assert "ENGLISH" in texts[0], "the Welsh welcome offers English with a word to reply"
            seen += texts
            texts = await phone.say("2")
            assert "Pa rif" in texts[0] and "Y rhif rwy'n tecstio ohono" in texts[0]
            seen += texts
            texts = await phone.say("y rhif hwn")
            assert "Pryd mae'n amser da" in texts[0]
            seen += texts
            texts = await phone.say("help")  # a standalone Welsh message mid-flow, with its accents
            assert "NÔL" in texts[0] and measure(texts[0]).encoding == "UCS-2"
            seen += texts
            for step in ("1", "ydy", "na"):
                seen += (texts := await phone.say(step))
            assert "07700 900321" in texts[0] and "Gwiriwch eich cais" in texts[0]
            texts = await phone.say("ie")
            assert "Mae eich cais gyda'r llinell argyfwng" in texts[0]
            seen += texts
            await eventually(lambda: received)
            request = json.loads(received[0])
            assert "447700900321" in json.dumps(request)
            assert "as soon as possible" in json.dumps(request), "the crisis team reads the request in English"

            texts = await phone.say("English")
            assert "Your request is with the team" in texts[0], "the same place, now in English"
            seen += texts
            texts = await phone.say("Cymraeg")
            assert "Mae eich cais gyda'r llinell argyfwng" in texts[0]
            seen += texts
            texts = await phone.say("diwedd")
            assert "Diolch am gysylltu" in texts[0] and CRISIS_LINE in texts[0]
            seen += texts
            within_three_segments_with_the_number(seen)
            for text in seen:
                assert " END " not in f" {text} " and " STOP " not in f" {text} "
