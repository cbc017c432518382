"""The webhook door: the secret, bad input, registration, duplicates. Real PTB, fake Bot API."""

from __future__ import annotations

import json

from bot import metrics
from tests.conftest import CRISIS_LINE
from tests.telegram.conftest import WEBHOOK_SECRET, WEBHOOK_URL
from tests.telegram.updates import PRIVATE_CHAT, message, next_update_id


def rejections(reason: str) -> float:
    return metrics.REGISTRY.get_sample_value("frontdoor_webhook_rejections_total", {"endpoint": "telegram", "reason": reason}) or 0.0


async def test_the_webhook_is_registered_with_the_secret_and_only_the_updates_we_handle(bot):
    hook = bot.fake.webhook
    assert hook["url"] == WEBHOOK_URL
    assert hook["secret_token"] == WEBHOOK_SECRET
    assert set(hook["allowed_updates"]) == {"message", "callback_query", "my_chat_member"}
    assert hook["drop_pending_updates"] in (None, False)  # updates sent while we were down are kept
    assert not bot.fake.calls_to("deleteWebhook")


async def test_a_forged_or_missing_secret_gets_403_and_nothing_else_happens(bot):
    before = rejections("signature")
    update = message(PRIVATE_CHAT, 1, "hello")
    for secret in ("wrong-secret", "", None, WEBHOOK_SECRET + "x", WEBHOOK_SECRET[:-1]):
        resp = await bot.post(update, secret=secret)
        assert resp.status == 403
        assert "Traceback" not in await resp.text()
    await bot.settle()
    assert rejections("signature") - before == 5
    assert bot.fake.calls_to("sendMessage") == []
    assert await bot.runtime.store.count() == 0


async def test_a_non_ascii_secret_header_is_refused_not_crashed(bot):
    resp = await bot.post(message(PRIVATE_CHAT, 1, "hi"), secret=None, headers={"X-Telegram-Bot-Api-Secret-Token": "sécret"})
    assert resp.status == 403


async def test_malformed_bodies_get_400_never_500(bot):
    bodies = [
        b"{not json",
        b"[]",
        b'"a string"',
        b"{}",
        b'{"update_id": "7"}',
        b'{"update_id": 7, "message": "not an object"}',
        b'{"update_id": 7, "message": {"message_id": "x", "chat": 5}}',
        b"\xff\xfe\x00",
    ]
    for raw in bodies:
        resp = await bot.post(None, raw=raw)
        text = await resp.text()
        assert resp.status == 400, (raw, resp.status, text)
        assert "Traceback" not in text and "Error" not in text.split(":")[0]
    await bot.settle()
    assert bot.fake.calls_to("sendMessage") == []


async def test_an_oversized_body_gets_413(bot):
    before = rejections("too_large")
    raw = json.dumps(message(PRIVATE_CHAT, 1, "x" * 100_000)).encode()
    resp = await bot.post(None, raw=raw)
    assert resp.status == 413
    assert rejections("too_large") - before == 1


async def test_a_huge_message_gets_a_kind_answer(bot):
    # Telegram caps messages at 4096 characters; a longer one (forged, but with the secret) is cut, not crashed on.
    await bot.deliver(message(PRIVATE_CHAT, bot.fake.next_message_id(), "word " * 6000))
    texts = bot.fake.sent_texts(PRIVATE_CHAT)
    assert len(texts) == 1 and CRISIS_LINE in texts[0]


async def test_unknown_update_types_are_accepted_and_ignored(bot):
    for update in (
        {"update_id": next_update_id(), "something_new": {"x": 1}},
        {"update_id": next_update_id(), "edited_message": message(PRIVATE_CHAT, 5, "edited")["message"]},
    ):
        resp = await bot.post(update)
        assert resp.status == 200
    await bot.settle()
    assert bot.fake.calls_to("sendMessage") == []


async def test_a_repeated_update_id_is_handled_once(bot):
    update = message(PRIVATE_CHAT, bot.fake.next_message_id(), "/start")
    for _ in range(3):
        assert (await bot.post(update)).status == 200
    await bot.settle()
    assert len(bot.fake.calls_to("sendMessage", PRIVATE_CHAT)) == 1
    assert bot.channel.application.update_processor.duplicates == 2


async def test_updates_are_refused_with_503_while_the_bot_is_not_ready(bot):
    bot.channel.ready = False
    try:
        resp = await bot.post(message(PRIVATE_CHAT, 1, "hi"))
        assert resp.status == 503 and resp.headers.get("Retry-After")
    finally:
        bot.channel.ready = True
    await bot.settle()
    assert bot.fake.calls_to("sendMessage") == []


async def test_deeply_nested_json_gets_400_not_500(bot):
    # ~30,000 nested arrays fit under the body limit and blow Python's recursion limit in json.loads.
    before = rejections("malformed")
    for raw in (b"[" * 30_000 + b"]" * 30_000, b'{"update_id": 1, "x": ' + b"[" * 30_000 + b"]" * 30_000 + b"}"):
        resp = await bot.post(None, raw=raw)
        assert resp.status == 400, (resp.status, (await resp.text())[:200])
    assert rejections("malformed") - before == 2
    await bot.settle()
    assert bot.fake.calls_to("sendMessage") == []
