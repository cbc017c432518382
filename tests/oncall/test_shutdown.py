"""Graceful shutdown: no new work, messages in flight finish, the runtime closes last, exit in time."""

from __future__ import annotations

import asyncio
import signal

import aiohttp
import pytest
from aiohttp import web

from bot.commands.probe import WS_PATH, _say as say
from bot.config import load
from bot.conversation.events import Channel, Inbound
from bot.runtime import open_runtime
from bot.web.app import create_app
from bot.web.lifecycle import graceful_stop, make_runner
from tests.conftest import CRISIS_LINE
from tests.oncall import process
from tests.oncall.conftest import FakeCallbacks, env


class HeldStore:
    """Wraps the real store; ``finish`` (the save at a message's end) waits until the test lets it go,
    so a message stays in flight."""

    def __init__(self, inner, events: list[str]) -> None:
        self.inner = inner
        self.events = events
        self.saving = asyncio.Event()
        self.release = asyncio.Event()

    async def finish(self, turn, session) -> None:
        self.saving.set()
        await self.release.wait()
        await self.inner.finish(turn, session)
        self.events.append("message saved")

    async def close(self) -> None:
        self.events.append("store closed")
        await self.inner.close()

    def __getattr__(self, name):
        return getattr(self.inner, name)


class StoppingCallbacks(FakeCallbacks):
    def __init__(self, events: list[str]) -> None:
        super().__init__()
        self.events = events

    async def stop(self) -> None:
        self.events.append("dispatcher stopped")


async def test_a_message_in_flight_gets_its_reply_and_the_runtime_closes_after(tmp_path):
    events: list[str] = []
    runtime = await open_runtime(load(env(tmp_path)), callbacks=StoppingCallbacks(events))
    store = HeldStore(runtime.store, events)
    runtime.store = runtime.gateway.store = store
    app = create_app(runtime)

    async def message(request: web.Request) -> web.Response:
        # Stands in for a channel: one message through the real gateway.
        delivery = await runtime.gateway.handle(Channel.WEB, "web:held", Inbound.typed(Channel.WEB, "hi"))
        events.append("reply ready")
        return web.json_response({"replies": [r.text for r in delivery.replies]})

    app.router.add_post("/test/message", message)
    runner = make_runner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    async with aiohttp.ClientSession() as client:
        in_flight = asyncio.create_task(client.post(f"http://127.0.0.1:{port}/test/message"))
        await store.saving.wait()
        stopping = asyncio.create_task(graceful_stop(runner))
        while runner.sites:  # the listener closes first...
            await asyncio.sleep(0.01)
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as other:
            with pytest.raises(aiohttp.ClientConnectorError):  # ...so new work is refused
                await other.get(f"http://127.0.0.1:{port}/healthz")
        assert not stopping.done()  # still waiting for the message in flight
        store.release.set()
        resp = await in_flight
        body = await resp.json()
        assert resp.status == 200 and CRISIS_LINE in body["replies"][0]
        assert await stopping is True
    assert events == ["message saved", "reply ready", "dispatcher stopped", "store closed"]


async def test_readyz_says_shutting_down_once_shutdown_begins(tmp_path):
    runtime = await open_runtime(load(env(tmp_path)))
    app = create_app(runtime)
    seen: list[int] = []

    async def on_shutdown(app: web.Application) -> None:
        # Runs after health's own shutdown hook: what would a late /readyz see?
        from bot.web.health import READINESS

        seen.append(200 if (await app[READINESS].report()).ready else 503)

    app.on_shutdown.append(on_shutdown)
    runner = make_runner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    assert await graceful_stop(runner) is True
    assert seen == [503]


@pytest.mark.slow
async def test_frontdoor_serve_exits_cleanly_on_sigterm_with_a_chat_open(tmp_path):
    """A real ``frontdoor serve``: SIGTERM mid-conversation closes the chat and exits 0 within 10 s."""
    server = process.start(process.base_env(tmp_path, process.free_port()), tmp_path / "serve.log")
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as client:
            async with client.ws_connect(f"{server.url}{WS_PATH}", headers={"Origin": server.url}) as ws:
                replies = await say(ws, "hello")
                assert any(CRISIS_LINE in r for r in replies)
                server.proc.send_signal(signal.SIGTERM)
                closed = await ws.receive()  # the server closes the socket as it shuts down
                assert closed.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)
        code = await asyncio.to_thread(server.terminate, signal.SIGTERM, 10.0)  # the budget the issue sets
    finally:
        if server.proc.poll() is None:
            server.proc.kill()
    assert code == 0, server.output()
    assert "Traceback" not in server.output()
