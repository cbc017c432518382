"""Helpers every test folder uses: waiting for a condition, free ports, and honest skips.

They live here, not in a conftest, because pytest's conftest files are for
fixtures and are not meant to be imported; these are plain functions.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
from typing import AsyncIterator, Callable

import pytest
from aiohttp import web


def unavailable(reason: str) -> None:
    """A service the test needs can't be reached: fail under CI, skip loudly elsewhere."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)


async def eventually(check: Callable[[], object], timeout: float = 10.0, interval: float = 0.02) -> None:
    """Wait until ``check()`` is truthy (awaiting it if needed); fail after ``timeout``.

    For things that happen in the background (a dispatcher delivering, a
    process starting). The timeout is a ceiling for a failure, not a measure.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)


def free_port() -> int:
    """A loopback port nobody is using now (for a server a test starts itself)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.asynccontextmanager
async def callback_receiver() -> AsyncIterator[tuple[str, list[bytes]]]:
    """The crisis team's end of the signed webhook sink: yields its URL and what it was sent."""
    received: list[bytes] = []

    async def take(request: web.Request) -> web.Response:
        received.append(await request.read())
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/callbacks", take)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/callbacks", received
    finally:
        await runner.cleanup()


@contextlib.asynccontextmanager
async def app_client(settings, metrics=None) -> AsyncIterator[tuple[object, object]]:
    """The whole app for ``settings`` behind aiohttp's test client: ``(client, runtime)``."""
    from aiohttp.test_utils import TestClient, TestServer

    from bot.runtime import open_runtime
    from bot.web.app import create_app

    runtime = await open_runtime(settings, metrics=metrics)
    client = TestClient(TestServer(create_app(runtime)))
    await client.start_server()
    try:
        yield client, runtime
    finally:
        await client.close()
