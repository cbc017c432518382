"""Fixtures for the callback path: real outboxes (SQLite file, PostgreSQL schema), a webhook receiver, sinks.

PostgreSQL is the one on this machine (127.0.0.1:5432, user postgres, db
test); each test gets its own schema, dropped afterwards. Where it can't be
reached the tests fail under CI=true and skip, saying why, otherwise.

Everything uses Ofcom's drama numbers (07700 900xxx) only.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from dataclasses import dataclass, field
from typing import AsyncIterator

import asyncpg
import pytest
from aiohttp import web
from cryptography.fernet import Fernet

from bot.callbacks.base import CallbackRequest
from bot.callbacks.encryption import RequestCipher
from bot.callbacks.outbox_postgres import PostgresOutbox
from bot.callbacks.outbox_sqlite import SQLiteOutbox
from bot.callbacks.service import OutboxCallbackService
from bot.conversation.events import CallbackDetails
from tests.support import free_port, unavailable

PG_URL = os.environ.get("FRONTDOOR_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
PHONE = "+447700900123"
PHONE_DIGITS = b"7700900123"
NAME = "Sam Testperson"
SECRET = "callback-webhook-secret-0123456789"

# Fast enough that a test never sleeps for long; the shape (exponential, jitter, cap) is the real one.
FAST = dict(backoff_base=0.05, backoff_cap=0.2, lease=3.0, attempt_timeout=1.0, poll_interval=0.1, stop_timeout=2.0)


def details(phone: str = PHONE, *, name: str | None = None, channel: str = "telegram") -> CallbackDetails:
    return CallbackDetails(phone=phone, window="as soon as possible", voicemail_ok=True, say_who_is_calling=False, channel=channel, name=name)


def fake_phone(i: int) -> str:
    return f"+447700900{i % 1000:03d}"


# --- PostgreSQL ---------------------------------------------------------------------


async def pg_reachable() -> bool:
    try:
        conn = await asyncpg.connect(PG_URL, timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await conn.close()
    return True


@contextlib.asynccontextmanager
async def pg_schema() -> AsyncIterator[str]:
    """A fresh schema on the machine's PostgreSQL, dropped afterwards."""
    if not await pg_reachable():
        unavailable(f"PostgreSQL is not reachable at {PG_URL}")
    schema = "cb_test_" + uuid.uuid4().hex[:12]
    conn = await asyncpg.connect(PG_URL)
    await conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield schema
    finally:
        await conn.execute(f"DROP SCHEMA {schema} CASCADE")
        await conn.close()


@pytest.fixture
async def pg() -> AsyncIterator[str]:
    async with pg_schema() as schema:
        yield schema


@pytest.fixture(params=["sqlite", "postgresql"])
async def outbox(request, tmp_path):
    """Each backend in turn, opened; closed afterwards."""
    if request.param == "sqlite":
        box = SQLiteOutbox.in_folder(tmp_path)
        await box.open()
        yield box
        await box.close()
    else:
        async with pg_schema() as schema:
            box = PostgresOutbox(PG_URL, schema=schema)
            await box.open()
            yield box
            await box.close()


# --- sinks and services -------------------------------------------------------------


@dataclass
class MemorySink:
    """Records what it is given; fails while ``failing`` is set (or for the next ``fail_next`` attempts)."""

    name: str = "memory"
    received: list[CallbackRequest] = field(default_factory=list)
    failing: bool = False
    fail_next: int = 0
    attempts: int = 0
    delay: float = 0.0

    async def deliver(self, request: CallbackRequest) -> None:
        self.attempts += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.failing:
            raise ConnectionError("sink down")
        if self.fail_next > 0:
            self.fail_next -= 1
            raise ConnectionError("sink down")
        self.received.append(request)

    @property
    def ids(self) -> list[str]:
        return [r.id for r in self.received]


def new_cipher() -> RequestCipher:
    return RequestCipher([Fernet.generate_key()])


def service(outbox, sinks, cipher: RequestCipher | None = None, **options) -> OutboxCallbackService:
    opts = dict(FAST)
    opts.update(options)
    return OutboxCallbackService(outbox, cipher or new_cipher(), sinks, **opts)


# --- a webhook receiver that can be down, failing or slow ----------------------------


class Receiver:
    """The crisis team's end of the webhook. ``stop()`` refuses connections.

    ``mode``: ok; error (500); hang (never answers); slow_ack (takes the
    request, then answers too late: the sender can't know it arrived).
    """

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/callbacks"
        self.mode = "ok"
        self.bodies: list[bytes] = []
        self.headers: list[dict[str, str]] = []
        self.hits = 0
        self._runner: web.AppRunner | None = None

    async def _take(self, request: web.Request) -> web.Response:
        self.hits += 1
        body = await request.read()
        if self.mode == "error":
            return web.Response(status=500)
        if self.mode == "hang":
            await asyncio.sleep(3600)
        self.bodies.append(body)
        self.headers.append(dict(request.headers))
        if self.mode == "slow_ack":
            await asyncio.sleep(3600)
        return web.json_response({"ok": True})

    async def start(self) -> "Receiver":
        app = web.Application()
        app.router.add_post("/callbacks", self._take)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True).start()
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def ids(self) -> list[str]:
        import json

        return [json.loads(b)["id"] for b in self.bodies]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    await r.start()
    yield r
    await r.stop()
