"""One chat's updates one at a time and in order; different chats at once; no leaking locks."""

from __future__ import annotations

import asyncio

from telegram import Update

from bot.channels.telegram.order import ChatOrderedProcessor
from tests.telegram.chat import Person
from tests.telegram.updates import PRIVATE_CHAT, message, press


def update(chat_id: int, n: int) -> Update:
    return Update.de_json(message(chat_id, n, f"m{n}"), None)


async def run_through(processor: ChatOrderedProcessor, updates: list[Update], work) -> None:
    """What PTB's fetcher does: one task per update, created in queue order."""
    async with processor:
        tasks = [asyncio.create_task(processor.process_update(u, work(u))) for u in updates]
        await asyncio.gather(*tasks)


async def test_one_chat_in_order_and_chats_side_by_side():
    events: list[tuple[str, int, int]] = []
    running: dict[int, int] = {}
    overlap_between_chats = False

    async def work(u: Update):
        nonlocal overlap_between_chats
        chat = u.effective_chat.id
        assert running.get(chat, 0) == 0, "two updates of one chat ran at once"
        running[chat] = 1
        overlap_between_chats |= any(v for c, v in running.items() if c != chat)
        events.append(("start", chat, u.message.message_id))
        await asyncio.sleep(0.001 * (u.message.message_id % 3))
        running[chat] = 0

    updates = [update(chat, n) for n in range(1, 31) for chat in (1, 2, 3)]
    processor = ChatOrderedProcessor(max_running=8)
    await run_through(processor, updates, work)
    for chat in (1, 2, 3):
        assert [n for _, c, n in events if c == chat] == list(range(1, 31))
    assert overlap_between_chats
    assert processor.chats_in_flight == 0  # locks are dropped once a chat has nothing in flight


async def test_locks_do_not_leak_across_many_chats_even_when_work_fails():
    async def work(u: Update):
        if u.effective_chat.id % 2:
            raise RuntimeError("boom")

    processor = ChatOrderedProcessor()
    async with processor:
        for start in range(0, 2000, 500):
            tasks = [asyncio.create_task(processor.process_update(update(c, 1), work(update(c, 1)))) for c in range(start + 1, start + 501)]
            await asyncio.gather(*tasks, return_exceptions=True)
    assert processor.chats_in_flight == 0


async def test_a_repeated_update_id_runs_once_and_its_coroutine_is_closed():
    ran = []

    async def work(u: Update):
        ran.append(u.update_id)

    u = update(1, 1)
    processor = ChatOrderedProcessor()
    await run_through(processor, [u, u, u], work)
    assert ran == [u.update_id] and processor.duplicates == 2


async def test_the_shared_duplicate_check_spans_replicas_and_a_failing_one_is_ignored():
    seen_elsewhere = {7}

    async def shared(update_id: str) -> bool:
        if update_id == "9":
            raise ConnectionError("store down")
        return int(update_id) in seen_elsewhere

    ran = []

    async def work(u: Update):
        ran.append(u.update_id)

    updates = [Update.de_json(message(1, n, "x", update_id=n), None) for n in (7, 8, 9)]
    await run_through(ChatOrderedProcessor(seen=shared), updates, work)
    assert ran == [8, 9]


async def test_quick_taps_in_one_chat_reach_the_engine_in_order(bot):
    """Five updates posted back to back, none awaited: the conversation ends where sequential handling would."""
    person = Person(bot)
    await person.say("/start")
    welcome = person.last.result["message_id"]
    bot.fake.delays["answerCallbackQuery"] = 0.2  # the press is slow to reach the gateway: the text must not overtake it
    steps = [press(PRIVATE_CHAT, welcome, "callback"), message(PRIVATE_CHAT, bot.fake.next_message_id(), "07700 900123")]
    for u in steps:
        assert (await bot.post(u)).status == 200
    await bot.settle()
    texts = person.texts()
    assert "What number should they call" in texts[-2]
    assert "good time for a call" in texts[-1]


async def test_ptb_keeps_no_data_per_chat_or_user(bot):
    """PTB's chat_data/user_data would hold raw ids for ever; the adapter never touches them."""
    person = Person(bot)
    await person.say("/start")
    await person.tap("support")
    app = bot.channel.application
    assert len(app.chat_data) == 0 and len(app.user_data) == 0
    assert bot.channel.application.update_processor.chats_in_flight == 0
