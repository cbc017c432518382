"""Fixtures for the on-call view: our real app, and stand-ins whose health can be switched.

The stand-ins (a session store whose ping can fail or hang, a callback
service whose outbox can be full or late) exist so each readiness state can
be produced on demand. The real stores and outbox have their own tests; the
tests here that need them (Redis on a closed port, whole conversations) use
the real ones.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.config import load
from bot.conversation.session import Session
from bot.runtime import Runtime, open_runtime
from bot.web.app import create_app


class SwitchableStore:
    """A session store in memory whose ping answers, fails or hangs as a test says.

    Wraps the real store so conversations behave exactly as in production.
    """

    def __init__(self, inner) -> None:
        self.inner = inner
        self.ping_mode = "ok"  # "ok", "false", "raise", "hang"

    async def ping(self) -> bool:
        if self.ping_mode == "hang":
            await asyncio.Event().wait()
        if self.ping_mode == "raise":
            raise ConnectionError("refused")
        return self.ping_mode == "ok" and await self.inner.ping()

    def __getattr__(self, name):
        return getattr(self.inner, name)


@dataclass
class FakeCallbacks:
    """A callback service with a sink configured, whose health a test sets."""

    writable: bool = True
    waiting: int = 0
    oldest_waiting_seconds: float = 0.0
    submitted: list = field(default_factory=list)
    available: bool = True

    async def submit(self, details) -> str:
        self.submitted.append(details)
        return f"req-{len(self.submitted)}"

    async def cancel(self, request_id: str) -> str:
        return "withdrawn"

    async def health(self):
        return self

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


def env(tmp_path, **extra: str) -> dict[str, str]:
    e = {"FRONTDOOR_ENV": "test", "FRONTDOOR_DATA_DIR": str(tmp_path)}
    e.update(extra)
    return e


@dataclass
class Served:
    client: TestClient
    runtime: Runtime


@contextlib.asynccontextmanager
async def serve(tmp_path, *, callbacks=None, wrap_store: bool = True, **extra: str) -> AsyncIterator[Served]:
    settings = load(env(tmp_path, **extra))
    runtime = await open_runtime(settings, callbacks=callbacks)
    if wrap_store:
        runtime.store = SwitchableStore(runtime.store)
        runtime.gateway.store = runtime.store
    client = TestClient(TestServer(create_app(runtime)))
    await client.start_server()
    try:
        yield Served(client, runtime)
    finally:
        await client.close()


@pytest.fixture
async def served(tmp_path) -> AsyncIterator[Served]:
    async with serve(tmp_path) as s:
        yield s


__all__ = ["FakeCallbacks", "Served", "Session", "SwitchableStore", "env", "serve"]
