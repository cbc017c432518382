"""A real server and real headless Chromium (Debian's package, driven by Playwright).

Playwright's own browser download cannot run here, so the tests launch
/usr/bin/chromium (installed by .ci/system-deps.sh) through ``executable_path``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from typing import AsyncIterator

import pytest
from aiohttp.test_utils import TestServer

from bot.config import load
from bot.runtime import open_runtime
from bot.web.app import create_app
from tests.support import unavailable


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        unavailable("Debian's chromium is not installed (.ci/system-deps.sh installs it)")
    return path


class Served:
    def __init__(self, server: TestServer, runtime) -> None:
        self.server = server
        self.runtime = runtime

    @property
    def url(self) -> str:
        return str(self.server.make_url("/"))


@contextlib.asynccontextmanager
async def serve(tmp_path, metrics=None, **env: str) -> AsyncIterator[Served]:
    values = {"FRONTDOOR_ENV": "development",  # the console sink stands in for the crisis team
               "FRONTDOOR_DATA_DIR": str(tmp_path), "FRONTDOOR_HASH_SECRET": "w" * 32}
    values.update(env)
    runtime = await open_runtime(load(values), metrics=metrics)
    server = TestServer(create_app(runtime), host="127.0.0.1")
    await server.start_server()
    try:
        yield Served(server, runtime)
    finally:
        await server.close()


@pytest.fixture
async def served(tmp_path) -> AsyncIterator[Served]:
    async with serve(tmp_path, FRONTDOOR_QUICK_EXIT_URL="http://127.0.0.1:9/") as s:
        yield s


@pytest.fixture
async def browser():
    from playwright.async_api import async_playwright

    path = chromium_path()
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=path, headless=True, args=["--no-sandbox", "--disable-gpu"])
        try:
            yield b
        finally:
            await b.close()


@pytest.fixture
async def page(browser):
    context = await browser.new_context(viewport={"width": 390, "height": 844}, accept_downloads=True)
    pg = await context.new_page()
    yield pg
    await context.close()


os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
