"""Redis down mid-conversation: every message still gets the number, readiness fails, and it recovers.

The test runs its own redis-server (the machine's stays up for everyone
else), kills it between two messages, and starts it again on the same port.
"""

from __future__ import annotations

from aiohttp.test_utils import TestClient, TestServer

from bot.config import load
from bot.conversation.events import Channel, Inbound
from bot.runtime import open_runtime
from bot.web.app import create_app
from tests.conftest import CRISIS_LINE

T = Channel.TERMINAL


async def test_the_bot_answers_with_the_number_while_redis_is_down_and_recovers(own_redis, tmp_path):
    settings = load({"FRONTDOOR_ENV": "test", "FRONTDOOR_DATA_DIR": str(tmp_path), "FRONTDOOR_REDIS_URL": own_redis.url, "FRONTDOOR_HASH_SECRET": "x" * 32})
    runtime = await open_runtime(settings)
    client = TestClient(TestServer(create_app(runtime)))
    await client.start_server()
    key = runtime.key("terminal", "someone")
    try:
        first = await runtime.gateway.handle(T, key, Inbound.typed(T, "hi"))
        assert not first.degraded and CRISIS_LINE in first.replies[0].text
        assert (await client.get("/readyz")).status == 200

        own_redis.stop()
        for text in ("2", "menu", "I want to kill myself"):
            delivery = await runtime.gateway.handle(T, key, Inbound.typed(T, text))
            assert delivery.degraded
            assert all(CRISIS_LINE in r.text and "999" in r.text for r in delivery.replies)
        # Triage still comes first when the store is down: the emergency reply, not the apology.
        assert "Sorry" not in delivery.replies[0].text
        assert (await client.get("/readyz")).status == 503

        own_redis.start()
        again = await runtime.gateway.handle(T, key, Inbound.typed(T, "hi"))
        assert not again.degraded and CRISIS_LINE in again.replies[0].text
        assert (await client.get("/readyz")).status == 200
        assert own_redis.files() == [], "Redis wrote to disk"
    finally:
        await client.close()
