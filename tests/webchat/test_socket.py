"""The web chat's HTTP side: headers that keep nothing, a socket that refuses strangers and junk."""

from __future__ import annotations

import json

import aiohttp

from tests.conftest import CRISIS_LINE


async def test_the_page_is_not_stored_and_has_a_strict_policy(served):
    async with aiohttp.ClientSession() as http:
        async with http.get(served.url) as resp:
            assert resp.status == 200
            page = await resp.text()
            assert resp.headers["Cache-Control"] == "no-store"
            csp = resp.headers["Content-Security-Policy"]
            assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
            assert "Set-Cookie" not in resp.headers
    assert 'href="tel:+443001312789"' in page and "999" in page  # the number without any script


async def test_a_socket_from_another_site_is_refused(served):
    async with aiohttp.ClientSession() as http:
        try:
            async with http.ws_connect(served.url + "chat/ws", headers={"Origin": "https://evil.example"}):
                raise AssertionError("a foreign origin opened the chat")
        except aiohttp.WSServerHandshakeError as exc:
            assert exc.status == 403


async def test_junk_frames_get_an_answer_with_the_number_and_nothing_breaks(served):
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(served.url + "chat/ws", headers={"Origin": served.url.rstrip("/")}) as ws:
            for junk in ("not json", "[1, 2]", json.dumps({"type": "nonsense"}), "{" * 5000):
                await ws.send_str(junk)
                if len(junk) > 4096:
                    closed = await ws.receive()
                    assert closed.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)
                    break
                frame = json.loads((await ws.receive()).data)
                assert frame["type"] == "error" and CRISIS_LINE in frame["text"]
    async with aiohttp.ClientSession() as http:  # and the server still answers
        async with http.ws_connect(served.url + "chat/ws", headers={"Origin": served.url.rstrip("/")}) as ws:
            await ws.send_json({"type": "message", "text": "hi"})
            frames = [json.loads((await ws.receive()).data) for _ in range(2)]
            assert frames[0]["type"] == "session" and CRISIS_LINE in frames[1]["replies"][0]["text"]


async def test_the_quick_exit_beacon_ends_the_session(served):
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(served.url + "chat/ws", headers={"Origin": served.url.rstrip("/")}) as ws:
            await ws.send_json({"type": "start"})
            token = json.loads((await ws.receive()).data)["token"]
            await ws.receive()
            assert await served.runtime.store.count() == 1
            async with http.post(served.url + "chat/exit", data=token) as resp:
                assert resp.status == 204
            assert await served.runtime.store.count() == 0


async def test_the_widget_opens_the_chat_and_shows_the_number(served):
    async with aiohttp.ClientSession() as http:
        async with http.get(served.url + "chat/widget.js") as resp:
            script = await resp.text()
    assert served.url in script and "0300 131 2789" in script and "cookie" not in script.lower()


async def test_a_quick_exit_beacon_that_is_not_utf8_is_not_a_500(served):
    async with aiohttp.ClientSession() as http:
        for headers in ({}, {"Content-Type": "text/plain;charset=UTF-8"}, {"Content-Type": "text/plain;charset=nonsense"}):
            async with http.post(served.url + "chat/exit", data=b"\xff\xfe\x80token", headers=headers) as resp:
                assert resp.status < 500, (headers, resp.status)
        async with http.get(served.url + "healthz") as resp:
            assert resp.status == 200
