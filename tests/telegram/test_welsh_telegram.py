"""Cymraeg on Telegram: the real PTB against the fake Bot API, in Welsh from end to end."""

from __future__ import annotations

from tests.conftest import CRISIS_LINE, FAKE_MOBILE, FAKE_MOBILE_E164
from tests.support import callback_receiver
from tests.telegram.chat import Person
from tests.telegram.conftest import running_bot
from tests.telegram.updates import GROUP_CHAT, PRIVATE_CHAT, message

SECRET = "callback-webhook-secret-0123456789"


def labels(call) -> list[str]:
    return [b["text"] for b in call.buttons]


async def test_a_welsh_call_back_request_with_buttons_then_end_and_clear(tmp_path, fake_api):
    async with callback_receiver() as (url, received):
        async with running_bot(tmp_path, fake_api, FRONTDOOR_LANGUAGES="en,cy", FRONTDOOR_CALLBACK_WEBHOOK_URL=url, FRONTDOOR_CALLBACK_WEBHOOK_SECRET=SECRET) as bot:
            person = Person(bot)
            await person.say("/start")
            assert "Cymraeg" in labels(person.last), "the English welcome offers Cymraeg as a button"
            await person.tap("cymraeg")
            welcome = person.last
            assert "Gwasanaeth awtomataidd" in welcome.text and CRISIS_LINE in welcome.text
            assert "Gofyn am alwad" in labels(welcome) and "English" in labels(welcome)

            await person.tap("call_now")
            assert "Ffoniwch 0300 131 2789" in person.last.text
            assert "Byddar, neu'n methu siarad" in labels(person.last)

            await person.tap("callback")
            assert "Pa rif" in person.last.text
            await person.say(FAKE_MOBILE)
            await person.tap("asap")
            await person.tap("voicemail_yes")
            await person.tap("say_who_no")
            summary = person.last.text
            assert FAKE_MOBILE in summary and "Gwiriwch eich cais" in summary and "cyn gynted ag y bo modd" in summary
            await person.tap("send")
            assert "Mae eich cais gyda'r tîm" in person.last.text
            await fake_api.wait_for(lambda: received)
            assert FAKE_MOBILE_E164.encode() in received[0] or b"7700900123" in received[0]

            await person.tap("end")
            assert "Diolch am gysylltu" in person.last.text and "999" in person.last.text
            assert "Dileu'r sgwrs hon o fy ffôn" in labels(person.last)
            await person.tap("clear_chat")
            assert set(person.typed_ids) <= fake_api.deleted(PRIVATE_CHAT)
            assert "Rydw i wedi dileu'r negeseuon" in person.last.text and CRISIS_LINE in person.last.text


async def test_a_first_message_in_welsh_and_a_switch_mid_conversation(tmp_path, fake_api):
    async with running_bot(tmp_path, fake_api, FRONTDOOR_LANGUAGES="en,cy") as bot:
        person = Person(bot)
        await person.say("shwmae")
        assert "Gwasanaeth awtomataidd" in person.last.text
        await person.tap("support")
        assert "Gyda beth hoffech chi gael cymorth" in person.last.text
        await person.say("English")
        assert "What would you like support with" in person.last.text, "same place, now in English"
        assert "Stress and sleep" in labels(person.last)
        await person.say("Cymraeg")
        await person.tap("topic_stress")
        text = person.last.text
        assert "0808 164 0123" in text and "7yh" in text, "the Welsh-language line, with its hours"
        assert CRISIS_LINE in text


async def test_a_group_that_writes_in_welsh_is_answered_in_welsh(tmp_path, fake_api):
    async with running_bot(tmp_path, fake_api, FRONTDOOR_LANGUAGES="en,cy") as bot:
        await bot.deliver(message(GROUP_CHAT, fake_api.next_message_id(), "shwmae, dw i angen help", user_id=PRIVATE_CHAT))
        await bot.deliver(message(GROUP_CHAT + 1, fake_api.next_message_id(), "hello, is anyone there", user_id=PRIVATE_CHAT))
        welsh, english = fake_api.calls_to("sendMessage", GROUP_CHAT), fake_api.calls_to("sendMessage", GROUP_CHAT + 1)
        assert len(welsh) == 1 and len(english) == 1, "one short answer per group, whatever the language"
        assert "sgyrsiau preifat" in welsh[0].text and CRISIS_LINE in welsh[0].text and "999" in welsh[0].text
        assert labels(welsh[0]) == ["Siarad â mi yn breifat"]
        assert "private chats" in english[0].text and CRISIS_LINE in english[0].text
        assert await bot.runtime.store.count() == 0, "nothing is kept for a group"
