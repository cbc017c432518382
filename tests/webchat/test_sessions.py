"""One socket is one person: it can't mint sessions, pick a session key, or sit open for ever.

Each test here failed on d346469, where every ``start`` or ``resume`` frame made
a new session with its own rate bucket and a socket that said nothing stayed open.
"""

from __future__ import annotations

import asyncio
import json

import aiohttp

from bot.channels.webchat import SOCKETS
from bot.channels.webchat_socket import SOCKETS_AT_ONCE
from tests.conftest import CRISIS_LINE


def origin(served) -> dict[str, str]:
    return {"Origin": served.url.rstrip("/")}


async def frames_until_replies(ws) -> list[dict]:
    """Frames up to and including the next ``replies`` (or an error)."""
    got = []
    while True:
        frame = json.loads((await asyncio.wait_for(ws.receive(), 5)).data)
        got.append(frame)
        if frame["type"] in ("replies", "error"):
            return got


async def test_many_start_frames_on_one_socket_are_one_session_with_one_rate_limit(served):
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(served.url + "chat/ws", headers=origin(served)) as ws:
            tokens = set()
            answered = 0
            for _ in range(40):
                await ws.send_json({"type": "start"})
                await ws.send_json({"type": "message", "text": "hi"})
            await asyncio.sleep(1.0)
            while True:
                try:
                    msg = await ws.receive(timeout=0.5)
                except asyncio.TimeoutError:
                    break
                frame = json.loads(msg.data)
                if frame["type"] == "session":
                    tokens.add(frame["token"])
                elif frame["type"] == "replies":
                    answered += 1
    assert await served.runtime.store.count() <= 1, "one socket left several sessions behind"
    assert len(tokens) == 1, "one socket was given several sessions"
    limit = served.runtime.settings.rate_limit_per_minute
    assert answered <= limit + 1, f"{answered} replies to 80 frames: the rate limit did not hold"


async def test_a_resume_token_the_server_never_issued_gets_a_fresh_session_not_the_chosen_one(served):
    chosen = "a" * 32
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(served.url + "chat/ws", headers=origin(served)) as ws:
            await ws.send_json({"type": "resume", "token": chosen})
            frames = await frames_until_replies(ws)
    issued = frames[0]
    assert issued["type"] == "session" and issued["token"] != chosen
    assert frames[-1]["type"] == "replies" and CRISIS_LINE in frames[-1]["replies"][0]["text"]  # a fresh start, with the number
    assert await served.runtime.store.load(served.runtime.key("web", chosen)) is None


async def test_a_dropped_connection_resumes_its_own_session_with_the_issued_token(served):
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(served.url + "chat/ws", headers=origin(served)) as ws:
            await ws.send_json({"type": "start"})
            token = (await frames_until_replies(ws))[0]["token"]
            await ws.send_json({"type": "choice", "id": "support"})
            await frames_until_replies(ws)
        async with http.ws_connect(served.url + "chat/ws", headers=origin(served)) as ws:
            await ws.send_json({"type": "resume", "token": token})
            await ws.send_json({"type": "message", "text": "back"})
            frames = await frames_until_replies(ws)
    assert await served.runtime.store.count() == 1, "the resumed socket started a second session"
    assert frames[-1]["type"] == "replies"


async def test_a_socket_that_never_starts_is_closed(served):
    served.server.app[SOCKETS].hello_seconds = 0.3
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(served.url + "chat/ws", headers=origin(served)) as ws:
            msg = await asyncio.wait_for(ws.receive(), 5)
    assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)


async def test_sockets_open_at_once_from_one_address_are_capped(served):
    served.server.app[SOCKETS].hello_seconds = 30
    async with aiohttp.ClientSession() as http:
        opened = []
        refused = 0
        for _ in range(SOCKETS_AT_ONCE + 3):
            try:
                opened.append(await http.ws_connect(served.url + "chat/ws", headers=origin(served)))
            except aiohttp.WSServerHandshakeError as exc:
                assert exc.status == 429
                refused += 1
        for ws in opened:
            await ws.close()
    assert len(opened) == SOCKETS_AT_ONCE and refused == 3
