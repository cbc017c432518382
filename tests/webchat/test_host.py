"""The Host header is the client's to write: it must never reach the widget's script or the page's policy.

A request's Host can hold quotes, backslashes, ``;`` and ``<``. Written into
``/chat/widget.js`` it could break out of the string and run on a partner's
site; written into the Content-Security-Policy it could add directives. So
the widget takes FRONTDOOR_PUBLIC_URL when it is set, and otherwise a Host is
used only if it is a plain host[:port]; anything else is a 400.
"""

from __future__ import annotations

import contextlib
import json
import re

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.config import load
from bot.runtime import open_runtime
from bot.web.app import create_app

HOSTILE = [
    'evil.example";alert(1);//',
    "evil.example';alert(1);//",
    'evil.example\\";alert(1);//',
    "evil.example; script-src *",
    "evil.example:80 'unsafe-inline'",
    "</script><script>alert(1)</script>",
    "evil.example/x",
    "evil.example:80x",
    "[::1",
]
GOOD = ["chat.example.org", "chat.example.org:8443", "127.0.0.1:8080", "[::1]:8080", "localhost"]
CHAT = re.compile(r"var chat = (.*?);\n")


@contextlib.asynccontextmanager
async def client(tmp_path, **env: str):
    values = {"FRONTDOOR_ENV": "development", "FRONTDOOR_DATA_DIR": str(tmp_path), "FRONTDOOR_HASH_SECRET": "h" * 32}
    values.update(env)
    runtime = await open_runtime(load(values))
    c = TestClient(TestServer(create_app(runtime)))
    await c.start_server()
    try:
        yield c
    finally:
        await c.close()


def chat_url(script: str) -> str:
    """The widget's chat URL, read as JavaScript would read the literal (JSON is a subset)."""
    found = CHAT.search(script)
    assert found, script[:300]
    return json.loads(found.group(1))


@pytest.mark.parametrize("host", HOSTILE)
async def test_a_hostile_host_reaches_neither_the_widget_nor_the_policy(tmp_path, host):
    async with client(tmp_path) as c:
        for path in ("/chat/widget.js", "/"):
            resp = await c.get(path, headers={"Host": host})
            body = await resp.text()
            assert resp.status == 400, (path, resp.status)
            assert host not in body and host not in resp.headers.get("Content-Security-Policy", "")
        assert (await c.get("/healthz")).status == 200


@pytest.mark.parametrize("host", GOOD)
async def test_a_plain_host_is_the_widgets_chat_url_and_the_sockets_origin(tmp_path, host):
    async with client(tmp_path) as c:
        resp = await c.get("/chat/widget.js", headers={"Host": host})
        assert resp.status == 200
        assert chat_url(await resp.text()) == f"http://{host}/"
        page = await c.get("/", headers={"Host": host})
        assert page.status == 200
        csp = page.headers["Content-Security-Policy"]
        assert f"wss://{host}" in csp.split("connect-src", 1)[1].split(";", 1)[0]


@pytest.mark.parametrize("host", HOSTILE[:3] + ["chat.internal:8080"])
async def test_with_a_public_url_the_widget_uses_it_whatever_the_host(tmp_path, host):
    async with client(tmp_path, FRONTDOOR_PUBLIC_URL="https://frontdoor.example.org/") as c:
        resp = await c.get("/chat/widget.js", headers={"Host": host})
        script = await resp.text()
        assert resp.status == 200
        assert chat_url(script) == "https://frontdoor.example.org/"
        assert host not in script
