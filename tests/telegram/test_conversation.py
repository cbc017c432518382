"""Whole conversations on Telegram: webhook in, real PTB, gateway and engine, fake Bot API out."""

from __future__ import annotations

import time

import pytest

from bot import metrics
from bot.conversation.events import Channel
from tests.conftest import CRISIS_LINE, FAKE_MOBILE, FAKE_MOBILE_E164
from tests.support import callback_receiver
from tests.telegram.chat import Person
from tests.telegram.conftest import STAFF_CHAT, running_bot
from tests.telegram.updates import GROUP_CHAT, PRIVATE_CHAT, member_change, message

CALLBACK_SECRET = "callback-webhook-secret-0123456789"


def key_for(bot, chat_id=PRIVATE_CHAT) -> str:
    return bot.runtime.key(Channel.TELEGRAM.value, str(chat_id))


async def test_call_now_callback_end_and_delete_this_conversation(tmp_path, fake_api):
    async with callback_receiver() as (url, received):
        async with running_bot(tmp_path, fake_api, FRONTDOOR_CALLBACK_WEBHOOK_URL=url, FRONTDOOR_CALLBACK_WEBHOOK_SECRET=CALLBACK_SECRET) as bot:
            person = Person(bot)
            await person.say("/start")
            welcome = person.last
            assert CRISIS_LINE in welcome.text
            assert {"call_now", "callback"} <= {b["callback_data"] for b in welcome.buttons}

            await person.tap("call_now")
            assert CRISIS_LINE in person.last.text

            await person.tap("callback")
            await person.say(FAKE_MOBILE)
            await person.tap("asap")
            await person.tap("voicemail_yes")
            await person.tap("say_who_no")
            assert FAKE_MOBILE in person.last.text  # the summary to confirm
            await person.tap("send")
            assert "with the team" in person.last.text
            await fake_api.wait_for(lambda: received)
            assert FAKE_MOBILE_E164.encode() in received[0] or b"7700900123" in received[0]

            await person.tap("end")
            assert "Nothing from this conversation has been kept" in person.last.text
            assert await bot.runtime.store.load(key_for(bot)) is None
            before_clear = set(fake_api.sent_ids(PRIVATE_CHAT))

            await person.tap("clear_chat")
            deleted = fake_api.deleted(PRIVATE_CHAT)
            assert set(person.typed_ids) <= deleted  # what the person typed
            assert before_clear <= deleted  # and everything the bot sent, the end message included
            after = person.last
            assert "Telegram lets me delete" in after.text and CRISIS_LINE in after.text and "999" in after.text
            # nothing lingers to post a closing message into the cleared chat later
            assert await bot.runtime.store.load(key_for(bot)) is None
            assert len(bot.channel.records) == 0


async def test_delete_from_the_data_option_keeps_the_conversation_going(bot):
    person = Person(bot)
    await person.say("hello")
    await person.tap("data")
    sent_before = set(bot.fake.sent_ids(PRIVATE_CHAT))
    await person.tap("clear_chat")
    assert sent_before | set(person.typed_ids) <= bot.fake.deleted(PRIVATE_CHAT)
    session = await bot.runtime.store.load(key_for(bot))
    assert session is not None and session.message_ids == [person.last.result["message_id"]]
    await person.tap("menu")
    assert CRISIS_LINE in person.last.text


async def test_unreadable_messages_get_a_kind_answer_with_the_number(bot):
    person = Person(bot)
    for content in (
        {"sticker": {"file_id": "s1", "file_unique_id": "u1", "type": "regular", "width": 512, "height": 512, "is_animated": False, "is_video": False}},
        {"voice": {"file_id": "v1", "file_unique_id": "u2", "duration": 3}},
        {"location": {"latitude": 51.5, "longitude": -0.1}},
        {"photo": [{"file_id": "p1", "file_unique_id": "u3", "width": 90, "height": 90}]},
        {"document": {"file_id": "d1", "file_unique_id": "u4"}},
    ):
        await person.say(None, **content)
        assert "only read text" in person.last.text and CRISIS_LINE in person.last.text


async def test_a_shared_contact_becomes_the_callback_number_after_the_summary(bot):
    person = Person(bot)
    await person.say("/start")
    await person.tap("callback")
    await person.say(None, contact={"phone_number": "447700900123", "first_name": "Me", "user_id": PRIVATE_CHAT})
    await person.tap("evening")
    await person.tap("voicemail_no")
    await person.tap("say_who_yes")
    assert FAKE_MOBILE in person.last.text and {"send", "change_number"} <= {b["callback_data"] for b in person.last.buttons}


async def test_save_the_number_sends_a_contact_card(bot):
    person = Person(bot)
    await person.say("/start")
    await person.tap("save")
    cards = bot.fake.calls_to("sendContact", PRIVATE_CHAT)
    assert len(cards) == 1
    assert cards[0].params["phone_number"] == "+443001312789"
    assert cards[0].params["first_name"] == "Support line"
    session = await bot.runtime.store.load(key_for(bot))
    assert cards[0].result["message_id"] in session.message_ids


async def test_a_share_link_is_counted_and_starts_the_normal_flow(bot):
    before = metrics.REGISTRY.get_sample_value("frontdoor_telegram_shares_total") or 0.0
    person = Person(bot)
    await person.say("/start from-a-colleague")
    assert metrics.REGISTRY.get_sample_value("frontdoor_telegram_shares_total") == before + 1
    assert CRISIS_LINE in person.last.text and person.last.buttons
    session = await bot.runtime.store.load(key_for(bot))
    assert "from-a-colleague" not in repr(session.to_dict())


async def test_a_group_message_gets_exactly_one_short_answer_and_no_session(bot):
    await bot.deliver(message(GROUP_CHAT, bot.fake.next_message_id(), "/start@frontdoor_test_bot", user_id=PRIVATE_CHAT))
    answers = bot.fake.calls_to("sendMessage", GROUP_CHAT)
    assert len(answers) == 1
    answer = answers[0]
    assert CRISIS_LINE in answer.text and "999" in answer.text and len(answer.text) < 300
    assert [b.get("url") for b in answer.buttons] == ["https://t.me/frontdoor_test_bot"]
    assert await bot.runtime.store.load(key_for(bot, GROUP_CHAT)) is None
    assert await bot.runtime.store.count() == 0
    # someone joining the group is not a message to the bot
    await bot.deliver(message(GROUP_CHAT, bot.fake.next_message_id(), None, new_chat_members=[{"id": 5, "is_bot": False, "first_name": "New"}]))
    assert len(bot.fake.calls_to("sendMessage", GROUP_CHAT)) == 1


async def test_being_added_to_a_group_gets_one_answer(bot):
    await bot.deliver(member_change(GROUP_CHAT, "left", "member"))
    assert len(bot.fake.calls_to("sendMessage", GROUP_CHAT)) == 1


async def test_a_person_who_blocks_the_bot_has_their_session_ended(bot):
    person = Person(bot)
    await person.say("/start")
    assert await bot.runtime.store.load(key_for(bot)) is not None
    before = metrics.REGISTRY.get_sample_value("frontdoor_sessions_ended_total", {"reason": "blocked"}) or 0.0
    await bot.deliver(member_change(PRIVATE_CHAT, "member", "kicked"))
    assert await bot.runtime.store.load(key_for(bot)) is None
    assert metrics.REGISTRY.get_sample_value("frontdoor_sessions_ended_total", {"reason": "blocked"}) == before + 1


async def test_an_idle_session_gets_one_closing_message_with_the_delete_button(bot):
    person = Person(bot)
    await person.say("/start")
    await person.tap("support")
    ids_in_session = set(bot.fake.sent_ids(PRIVATE_CHAT)) | set(person.typed_ids)
    gateway = bot.runtime.gateway
    gateway.clock = lambda: time.time() + 10 * 3600
    try:
        assert await gateway.reap_idle() == 1
        assert await gateway.reap_idle() == 0  # claimed once
    finally:
        gateway.clock = time.time
    closing = person.last
    assert "timed out" in closing.text and "Nothing was kept" in closing.text
    assert CRISIS_LINE in closing.text and "999" in closing.text
    assert [b["callback_data"] for b in closing.buttons] == ["clear_chat"]
    await person.tap("clear_chat")
    assert ids_in_session | {closing.result["message_id"]} <= bot.fake.deleted(PRIVATE_CHAT)
    assert await bot.runtime.store.load(key_for(bot)) is None


@pytest.mark.parametrize("command", ["/help", "/menu", "/stop"])
async def test_commands_are_read_as_the_flows_words(bot, command):
    person = Person(bot)
    await person.say("/start")
    await person.say(command)
    assert CRISIS_LINE in person.last.text or "999" in person.last.text


async def test_a_bug_in_the_channel_still_leaves_the_person_with_the_number(bot, monkeypatch):
    async def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(bot.channel.adapter, "_deliver", broken)
    person = Person(bot)
    await person.say("/start")
    assert CRISIS_LINE in person.last.text and "999" in person.last.text


async def test_a_callback_request_reaches_the_staff_telegram_chat(bot):
    person = Person(bot)
    await person.say("/start")
    await person.tap("callback")
    await person.say(FAKE_MOBILE)
    await person.tap("morning")
    await person.tap("voicemail_no")
    await person.tap("say_who_yes")
    await person.tap("send")
    assert "with the team" in person.last.text
    posted = await bot.fake.wait_for(lambda: [c for c in bot.fake.calls_to("sendMessage", STAFF_CHAT) if c.result])
    assert FAKE_MOBILE in posted[0].text and "morning" in posted[0].text
    # the bot says nothing back in the staff chat
    await bot.deliver(message(STAFF_CHAT, bot.fake.next_message_id(), "got it, calling now", user_id=5))
    assert len(bot.fake.calls_to("sendMessage", STAFF_CHAT)) == 1
