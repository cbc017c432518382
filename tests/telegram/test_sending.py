"""Sending under Telegram's limits: 429 with retry_after, 5xx, a person who blocked the bot."""

from __future__ import annotations

from bot import metrics
from bot.conversation.events import Channel
from tests.conftest import CRISIS_LINE
from tests.telegram.chat import Person
from tests.telegram.updates import PRIVATE_CHAT


def errors(kind: str) -> float:
    return metrics.REGISTRY.get_sample_value("frontdoor_telegram_api_errors_total", {"kind": kind}) or 0.0


def key_for(bot) -> str:
    return bot.runtime.key(Channel.TELEGRAM.value, str(PRIVATE_CHAT))


async def test_a_429_is_retried_after_retry_after(bot):
    before = errors("retry_after")
    bot.fake.fail("sendMessage", 429, retry_after=1)
    person = Person(bot)
    await person.say("/start")
    attempts = bot.fake.calls_to("sendMessage", PRIVATE_CHAT)
    assert len(attempts) == 2 and attempts[0].result is None and attempts[1].result is not None
    assert CRISIS_LINE in attempts[1].text
    assert errors("retry_after") == before + 1


async def test_transient_5xx_errors_are_retried(bot):
    before = errors("network")
    bot.fake.fail("sendMessage", 502, times=1)
    bot.fake.fail("sendMessage", 500, times=1)
    person = Person(bot)
    await person.say("/start")
    attempts = bot.fake.calls_to("sendMessage", PRIVATE_CHAT)
    assert [a.result is not None for a in attempts] == [False, False, True]
    assert errors("network") == before + 2


async def test_when_sending_finally_fails_the_bot_gives_up_cleanly_and_carries_on(bot):
    person = Person(bot)
    await person.say("/start")
    remembered = list((await bot.runtime.store.load(key_for(bot))).message_ids)
    bot.fake.fail("sendMessage", 503, times=3)
    await person.say("menu")  # every attempt fails
    session = await bot.runtime.store.load(key_for(bot))
    # only ids of messages that really went out are kept for "delete this conversation"
    assert session.message_ids == remembered + [person.typed_ids[-1]]
    await person.say("menu")  # and the next message is answered normally
    assert person.last.result is not None and CRISIS_LINE in person.last.text


async def test_a_bad_request_is_not_retried(bot):
    before = errors("bad_request")
    bot.fake.fail("sendMessage", 400)
    person = Person(bot)
    await person.say("/start")
    assert len(bot.fake.calls_to("sendMessage", PRIVATE_CHAT)) == 1
    assert errors("bad_request") == before + 1


async def test_a_403_on_sending_means_blocked_and_ends_the_session(bot):
    person = Person(bot)
    await person.say("/start")
    before = errors("forbidden")
    bot.fake.fail("sendMessage", 403)
    await person.say("menu")
    assert errors("forbidden") == before + 1
    assert await bot.runtime.store.load(key_for(bot)) is None


async def test_a_refused_delete_batch_is_retried_one_message_at_a_time(bot):
    person = Person(bot)
    await person.say("/start")
    await person.tap("data")
    bot.fake.fail("deleteMessages", 400)
    await person.tap("clear_chat")
    singles = {int(c.params["message_id"]) for c in bot.fake.calls_to("deleteMessage", PRIVATE_CHAT)}
    assert set(person.typed_ids) <= singles and len(singles) >= 3
