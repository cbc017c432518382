"""At DEBUG, with the real logging configuration, nothing secret or personal reaches the log output.

PTB logs whole updates ("Processing update ...") and every Bot API call with
its parameters at DEBUG; HTTP clients log request URLs, which hold the bot
token. The redaction sits on the root handler (bot/logs.py), so it catches
third-party loggers too. This test runs the channel end to end at DEBUG,
including a start that Telegram refuses (PTB puts the token in that error's
message) and the staff chat sink (PTB's default HTTPX transport, which logs
URLs at INFO), then searches everything written for the token, a canary
message, the chat id and the phone number.
"""

from __future__ import annotations

import logging
import os

import pytest

from bot.callbacks.telegram_sink import TelegramStaffSink
from bot.config import load
from bot.conversation.events import CallbackDetails
from tests.telegram.chat import Person
from tests.telegram.conftest import running_bot, settings_env
from tests.telegram.fake_bot_api import TOKEN

CANARY = "canary-7f3a9 my sergeant keeps shouting at me"
CHAT = 7700917173
PHONE = "07700 900456"
PHONE_DIGITS = ("7700900456", "07700 900456", "+447700900456")
TOKEN_SECRET_PART = TOKEN.split(":", 1)[1]


@pytest.fixture
def logs_module():
    try:
        import bot.logs as logs
    except ImportError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip("bot/logs.py (the redacting root handler) has not landed yet: this test needs it")
    yield logs
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.setLevel(logging.WARNING)


async def test_debug_logs_carry_no_token_message_chat_id_or_number(tmp_path, fake_api, capfd, logs_module):
    env = settings_env(tmp_path, fake_api.url, FRONTDOOR_LOG_LEVEL="DEBUG")
    logs_module.configure_logging(load(env))
    fake_api.fail("getMe", 401)  # a refused token: PTB's InvalidToken message quotes the token
    async with running_bot(tmp_path, fake_api, FRONTDOOR_LOG_LEVEL="DEBUG") as bot:
        person = Person(bot, chat_id=CHAT)
        await person.say("/start")
        await person.say(CANARY)
        await person.tap("callback")
        await person.say(PHONE)
        await person.say(None, voice={"file_id": "v1", "file_unique_id": "u1", "duration": 2})
        await person.tap("menu")
        await person.say("end")
        await person.tap("clear_chat")
        assert fake_api.deleted(CHAT)

    sink = TelegramStaffSink(TOKEN, "-1007700900555", fake_api.url)
    await sink.deliver(CallbackDetails(phone="+447700900456", window="as soon as possible", voicemail_ok=True, say_who_is_calling=False, channel="telegram"))
    await sink.close()

    out, err = capfd.readouterr()
    written = out + err
    assert "telegram" in written.lower(), "nothing was logged: the test would prove nothing"
    assert TOKEN_SECRET_PART not in written, "the bot token reached the logs"
    assert "canary-7f3a9" not in written and "sergeant" not in written, "a message reached the logs"
    assert str(CHAT) not in written, "a raw chat id reached the logs"
    for form in PHONE_DIGITS:
        assert form not in written, "a phone number reached the logs"
