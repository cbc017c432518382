"""Fixtures for the Telegram channel: the fake Bot API, and our real server in front of PTB.

Nothing is mocked between the webhook and the Bot API: updates go through
``create_app`` (our aiohttp server), PTB's real Application, the gateway and
the engine, and the bot's calls reach :class:`FakeBotAPI` over loopback.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.channels.telegram import TELEGRAM, TelegramChannel
from bot.config import load
from bot.runtime import Runtime, open_runtime
from bot.web.app import create_app
from tests.telegram.fake_bot_api import TOKEN, FakeBotAPI

WEBHOOK_SECRET = "webhook-secret-for-tests-0123456789"
WEBHOOK_URL = "https://frontdoor.example/telegram/webhook"
STAFF_CHAT = -1007700900555  # the crisis team's chat: the callback sink posts there through the fake API


@dataclass
class Bot:
    """Our server with the Telegram channel on, and the fake Bot API it talks to."""

    fake: FakeBotAPI
    client: TestClient
    runtime: Runtime
    app: web.Application
    received: list = field(default_factory=list)

    @property
    def channel(self) -> TelegramChannel:
        return self.app[TELEGRAM]  # type: ignore[return-value]

    async def post(self, update, *, secret: str | None = WEBHOOK_SECRET, raw: bytes | None = None, headers: dict | None = None):
        h = dict(headers or {})
        if secret is not None:
            h["X-Telegram-Bot-Api-Secret-Token"] = secret
        if raw is not None:
            return await self.client.post("/telegram/webhook", data=raw, headers={"Content-Type": "application/json", **h})
        return await self.client.post("/telegram/webhook", json=update, headers=h)

    async def deliver(self, update) -> None:
        """Post an update as Telegram would, and wait until the bot has finished with it."""
        resp = await self.post(update)
        assert resp.status == 200, await resp.text()
        await self.settle()

    async def settle(self) -> None:
        """Wait until every queued update has been handled."""
        app = self.channel.application
        await self.fake.wait_for(lambda: app.update_queue.qsize() == 0 and app.update_processor.current_concurrent_updates == 0)


def settings_env(tmp_path, fake_url: str, **extra: str) -> dict[str, str]:
    env = {
        "FRONTDOOR_ENV": "test",
        "FRONTDOOR_DATA_DIR": str(tmp_path),
        "FRONTDOOR_TELEGRAM_TOKEN": TOKEN,
        "FRONTDOOR_TELEGRAM_API_URL": fake_url,
        "FRONTDOOR_TELEGRAM_WEBHOOK_URL": WEBHOOK_URL,
        "FRONTDOOR_TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "FRONTDOOR_TELEGRAM_STAFF_CHAT_ID": str(STAFF_CHAT),
    }
    env.update(extra)
    return env


@pytest.fixture
async def fake_api() -> AsyncIterator[FakeBotAPI]:
    fake = FakeBotAPI()
    await fake.start()
    yield fake
    await fake.stop()


@contextlib.asynccontextmanager
async def running_bot(tmp_path, fake: FakeBotAPI, metrics=None, **env: str) -> AsyncIterator[Bot]:
    settings = load(settings_env(tmp_path, fake.url, **env))
    runtime = await open_runtime(settings, metrics=metrics)
    app = create_app(runtime)
    client = TestClient(TestServer(app))
    await client.start_server()
    bot = Bot(fake, client, runtime, app)
    try:
        await fake.wait_for(lambda: bot.channel.ready)
        yield bot
    finally:
        await client.close()


@pytest.fixture
async def bot(tmp_path, fake_api) -> AsyncIterator[Bot]:
    async with running_bot(tmp_path, fake_api) as b:
        yield b
