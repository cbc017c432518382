"""The embedded default can't make or read its generated key: the bot still starts and gives the number.

With no FRONTDOOR_ENCRYPTION_KEY outside production the key is generated into
the data folder. When that folder can't be written (read-only, full, not a
folder at all) the bot must start as it does when the outbox can't be opened:
the callback option hidden, /readyz saying the callback path is down, a log
line with an event name and no traceback, and the number in every answer.

Real conditions, not mocks: a tmpfs mounted read-only (EROFS, which root
can't get round), a tmpfs that is full (ENOSPC, after the file is created),
and a data folder path under a regular file (NotADirectoryError). The mounts
need root with CAP_SYS_ADMIN; where that is missing those cases skip.
"""

from __future__ import annotations

import contextlib
import json
import logging
import subprocess
from pathlib import Path
from typing import Iterator

import aiohttp
import pytest

from bot.callbacks.encryption import KEY_FILE
from tests.support import app_client
from bot.config import load
from tests.conftest import CRISIS_LINE
from tests.oncall import process

EVENT = "callback_key_unavailable"


def _mount(target: Path, options: str) -> None:
    target.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)], capture_output=True, text=True)
    if done.returncode:
        pytest.skip(f"can't mount a tmpfs here ({done.stderr.strip() or done.returncode}): needs root with CAP_SYS_ADMIN")


@contextlib.contextmanager
def data_folder(tmp_path: Path, condition: str) -> Iterator[Path]:
    """A data folder in ``condition``: "read_only", "full" or "under_a_file"."""
    if condition == "under_a_file":
        blocker = tmp_path / "a-file"
        blocker.write_text("not a folder\n")
        yield blocker / "data"
        return
    target = tmp_path / condition
    _mount(target, "ro,size=1m" if condition == "read_only" else "size=64k")
    try:
        if condition == "full":
            with (target / "filler").open("wb", buffering=0) as f:
                with contextlib.suppress(OSError):
                    while True:
                        f.write(b"\0" * 4096)
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], check=True)


CONDITIONS = ["read_only", "full", "under_a_file"]


def settings(folder: Path):
    return load({"FRONTDOOR_ENV": "development", "FRONTDOOR_DATA_DIR": str(folder), "FRONTDOOR_HASH_SECRET": "k" * 32})


async def first_replies(ws) -> list[dict]:
    await ws.send_json({"type": "start"})
    frames = [json.loads((await ws.receive(timeout=10)).data) for _ in range(2)]
    assert frames[0]["type"] == "session" and frames[1]["type"] == "replies", frames
    return frames[1]["replies"]


def option_ids(replies: list[dict]) -> set[str]:
    return {o["id"] for r in replies for o in r["options"]}


def chat_app(folder: Path):
    return app_client(settings(folder))


async def test_a_writable_folder_offers_the_callback(tmp_path):
    # The control: the same configuration with a folder it can write offers the option.
    async with chat_app(tmp_path / "data") as (client, runtime):
        async with client.ws_connect("/chat/ws", headers={"Origin": str(client.make_url("")).rstrip("/")}) as ws:
            assert "callback" in option_ids(await first_replies(ws))
        assert (await client.get("/readyz")).status == 200
    assert (tmp_path / "data" / KEY_FILE).exists()


@pytest.mark.parametrize("condition", CONDITIONS)
async def test_no_key_file_means_no_callback_offered_and_readiness_down(tmp_path, condition, caplog):
    caplog.set_level(logging.INFO)
    with data_folder(tmp_path, condition) as folder:
        async with chat_app(folder) as (client, runtime):
            assert runtime.callbacks is not None and runtime.callbacks.available is False
            async with client.ws_connect("/chat/ws", headers={"Origin": str(client.make_url("")).rstrip("/")}) as ws:
                replies = await first_replies(ws)
            assert "callback" not in option_ids(replies)
            assert any(CRISIS_LINE in r["text"] for r in replies)
            assert (await client.get("/healthz")).status == 200
            resp = await client.get("/readyz")
            body = await resp.json()
            assert resp.status == 503
            assert (body["checks"]["callbacks"]["ok"], body["checks"]["callbacks"]["state"]) == (False, "outbox_down")
        if condition == "full":
            assert not (folder / KEY_FILE).exists()  # no empty key left behind to break the next start
    events = [r for r in caplog.records if getattr(r, "event", None) == EVENT]
    assert events and all(r.levelno >= logging.ERROR for r in events)
    assert not [r for r in caplog.records if r.exc_info]


@pytest.mark.slow
@pytest.mark.parametrize("condition", ["read_only", "full"])
async def test_frontdoor_serve_starts_and_gives_the_number(tmp_path, condition):
    """A real ``frontdoor serve``, the embedded default: it stays up, answers, and never prints a traceback."""
    with data_folder(tmp_path, condition) as folder:
        env = process.base_env(folder, process.free_port(), FRONTDOOR_ENV="development", FRONTDOOR_LOG_LEVEL="INFO")
        server = process.start(env, tmp_path / "serve.log")
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as http:
                async with http.ws_connect(f"{server.url}/chat/ws", headers={"Origin": server.url}) as ws:
                    replies = await first_replies(ws)
                async with http.get(f"{server.url}/readyz") as resp:
                    ready = resp.status, (await resp.json())["checks"]["callbacks"]["state"]
            assert server.proc.poll() is None
        finally:
            server.terminate()
    assert any(CRISIS_LINE in r["text"] for r in replies) and "callback" not in option_ids(replies)
    assert ready == (503, "outbox_down")
    output = server.output()
    assert EVENT in output and "Traceback" not in output
