"""Long polling (a token and no webhook URL), and the telegram_webhook readiness check."""

from __future__ import annotations

import time

from tests.conftest import CRISIS_LINE
from tests.telegram.conftest import WEBHOOK_URL, running_bot
from tests.telegram.updates import PRIVATE_CHAT, message, press


async def test_polling_mode_runs_the_same_conversation(tmp_path, fake_api):
    async with running_bot(tmp_path, fake_api, FRONTDOOR_TELEGRAM_WEBHOOK_URL="", FRONTDOOR_TELEGRAM_WEBHOOK_SECRET="") as bot:
        assert bot.channel.polling
        # no webhook route in polling mode
        assert (await bot.client.post("/telegram/webhook", json={})).status in (404, 405)
        polls = fake_api.calls_to("getUpdates")
        assert polls and set(polls[0].params["allowed_updates"]) == {"message", "callback_query", "my_chat_member"}
        assert not any(c.params.get("drop_pending_updates") for c in fake_api.calls_to("deleteWebhook"))

        fake_api.push_update(message(PRIVATE_CHAT, fake_api.next_message_id(), "/start"))
        welcome = await fake_api.wait_for(lambda: fake_api.calls_to("sendMessage", PRIVATE_CHAT))
        assert CRISIS_LINE in welcome[0].text
        fake_api.push_update(press(PRIVATE_CHAT, welcome[0].result["message_id"], "call_now"))
        await fake_api.wait_for(lambda: len(fake_api.calls_to("sendMessage", PRIVATE_CHAT)) == 2)
        assert CRISIS_LINE in fake_api.sent_texts(PRIVATE_CHAT)[-1]

        check = await bot.channel.health.check()
        assert check.name == "telegram_webhook" and check.ok and check.detail["mode"] == "polling" and check.detail["polling"]


async def test_webhook_readiness_reports_pending_updates_and_error_age(bot):
    health = bot.channel.health
    check = await health.check()
    assert check.ok and check.state == "ok"
    assert check.detail["pending_updates"] == 0 and check.detail["last_error_age_seconds"] == -1 and check.detail["webhook_is_ours"]

    bot.fake.pending_update_count = 250
    bot.fake.last_error_date = int(time.time()) - 30
    await health.refresh()
    check = await health.check()
    assert check.ok and check.state == "degraded"
    assert check.detail["pending_updates"] == 250 and 25 <= check.detail["last_error_age_seconds"] <= 120

    bot.fake.webhook["url"] = "https://someone-else.example/hook"
    await health.refresh()
    check = await health.check()
    assert not check.ok and check.state == "down"
    assert not any(WEBHOOK_URL in str(v) or "token" in str(v).lower() for v in check.detail.values())


async def test_readiness_goes_down_when_telegram_stops_answering(bot):
    health = bot.channel.health
    health.clock = lambda: time.time() + 3600  # an hour with no answer from getWebhookInfo
    check = await health.check()
    assert not check.ok and check.state == "down"


async def test_readyz_includes_the_telegram_check(bot):
    resp = await bot.client.get("/readyz")
    if resp.status == 404:
        return  # bot/web/health.py not there yet; the check itself is tested above
    assert "telegram_webhook" in await resp.text()
