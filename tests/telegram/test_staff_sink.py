"""The staff Telegram chat sink for callback requests, against the fake Bot API."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from telegram.error import NetworkError, TelegramError

from bot.callbacks.telegram_sink import TelegramStaffSink, staff_message
from bot.config import load
from bot.conversation.events import CallbackDetails
from tests.conftest import FAKE_MOBILE, FAKE_MOBILE_E164
from tests.telegram.fake_bot_api import TOKEN

STAFF_CHAT = -1007700900555
DETAILS = CallbackDetails(phone=FAKE_MOBILE_E164, window="after 19:00 (after their shift)", voicemail_ok=True, say_who_is_calling=False, channel="telegram")


@dataclass
class Record:
    id: str
    details: CallbackDetails
    created_at: float


async def test_a_request_is_posted_to_the_staff_chat_protected(fake_api):
    sink = TelegramStaffSink(TOKEN, str(STAFF_CHAT), fake_api.url)
    try:
        await sink.deliver(Record("req-42", DETAILS, 1_790_000_000.0))
    finally:
        await sink.close()
    [call] = fake_api.calls_to("sendMessage", STAFF_CHAT)
    assert FAKE_MOBILE in call.text and FAKE_MOBILE_E164 in call.text
    assert "after 19:00" in call.text and "Voicemail OK: yes" in call.text and "ref req-42" in call.text
    assert call.params["protect_content"] in (True, "true", "True")
    assert sink.name == "telegram"


async def test_delivery_failure_raises_so_the_dispatcher_retries(fake_api):
    sink = TelegramStaffSink(TOKEN, str(STAFF_CHAT), fake_api.url)
    fake_api.fail("sendMessage", 500)
    with pytest.raises(NetworkError) as info:
        await sink.deliver(DETAILS)
    assert FAKE_MOBILE_E164 not in str(info.value) and TOKEN not in str(info.value)
    fake_api.fail("sendMessage", 400)
    with pytest.raises(TelegramError):
        await sink.deliver(DETAILS)
    await sink.deliver(DETAILS)  # and the next attempt goes through
    await sink.close()
    assert len([c for c in fake_api.calls_to("sendMessage", STAFF_CHAT) if c.result]) == 1


def test_the_sink_is_built_only_with_a_token_and_a_staff_chat(tmp_path):
    base = {"FRONTDOOR_ENV": "test", "FRONTDOOR_DATA_DIR": str(tmp_path)}
    assert TelegramStaffSink.from_settings(load(base)) is None
    assert TelegramStaffSink.from_settings(load({**base, "FRONTDOOR_TELEGRAM_TOKEN": TOKEN})) is None
    assert TelegramStaffSink.from_settings(load({**base, "FRONTDOOR_TELEGRAM_TOKEN": TOKEN, "FRONTDOOR_TELEGRAM_STAFF_CHAT_ID": str(STAFF_CHAT)})) is not None


def test_the_staff_message_holds_only_what_a_call_back_needs():
    text = staff_message(DETAILS)
    assert text.splitlines()[0] == "New call back request"
    assert "Say they are from the crisis line: no" in text and "Came in by: telegram" in text
