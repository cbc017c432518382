"""Real processes: kill -9 before delivery and restart; two processes sharing one PostgreSQL outbox.

The service runs in ``tests/callbacks/outbox_process.py`` subprocesses,
configured through FRONTDOOR_* like the bot, delivering to a local webhook
receiver (tests/callbacks/conftest.py) that is down, hanging or up as each
test needs. A later whole-bot test can reuse :func:`spawn` and :class:`Receiver`.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from tests.callbacks.conftest import PG_URL, SECRET, Receiver
from tests.support import eventually

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Proc:
    process: asyncio.subprocess.Process
    submitted: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    reader: asyncio.Task | None = None

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for raw in self.process.stdout:
            line = raw.decode().strip()
            self.lines.append(line)
            if line.startswith("SUBMITTED "):
                self.submitted.append(line.split()[1])
            elif line == "READY":
                self.ready.set()

    async def kill9(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def terminate(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(self.process.wait(), 10)
        if self.reader:
            await self.reader
        return code


async def spawn(env: dict[str, str], *args: str) -> Proc:
    """Start a callback service process and wait until it has submitted what it was asked to."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("FRONTDOOR_")}
    full.update({"FRONTDOOR_ENV": "test", "PYTHONPATH": str(ROOT)}, **env)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.callbacks.outbox_process", *args,
        cwd=ROOT, env=full, stdout=asyncio.subprocess.PIPE,
    )
    proc = Proc(process)
    proc.reader = asyncio.create_task(proc._read())
    try:
        await asyncio.wait_for(proc.ready.wait(), 30)
    except TimeoutError:
        process.kill()
        raise AssertionError(f"the service process did not start: {proc.lines}") from None
    return proc


@contextlib.asynccontextmanager
async def running(env: dict[str, str], *args: str):
    proc = await spawn(env, *args)
    try:
        yield proc
    finally:
        if proc.process.returncode is None:
            proc.process.kill()
            await proc.process.wait()


def sqlite_env(folder: Path, receiver: Receiver) -> dict[str, str]:
    return {
        "FRONTDOOR_DATA_DIR": str(folder),
        "FRONTDOOR_CALLBACK_WEBHOOK_URL": receiver.url,
        "FRONTDOOR_CALLBACK_WEBHOOK_SECRET": SECRET,
    }


def pg_env(folder: Path, receiver: Receiver, schema: str, key: str) -> dict[str, str]:
    env = sqlite_env(folder, receiver)
    env.update({"FRONTDOOR_OUTBOX_URL": f"{PG_URL}?search_path={schema}", "FRONTDOOR_ENCRYPTION_KEY": key})
    return env


async def settle(receiver: Receiver, seconds: float = 1.0) -> None:
    """Give a duplicate, if there were going to be one, time to arrive (several backoff caps)."""
    await asyncio.sleep(seconds)


async def test_kill9_while_the_sink_is_down_then_restart_delivers_once(tmp_path):
    receiver = Receiver()  # down: nothing listens on its port yet
    env = sqlite_env(tmp_path, receiver)
    first = await spawn(env, "--submit", "1")
    (rid,) = first.submitted
    await asyncio.sleep(0.5)  # a few refused attempts
    await first.kill9()
    assert receiver.bodies == []

    await receiver.start()
    try:
        async with running(env) as second:
            started = time.monotonic()
            await eventually(lambda: receiver.ids() == [rid])
            print(f"delivered {time.monotonic() - started:.2f}s after the restart")
            await settle(receiver)
            assert await second.terminate() == 0
        async with running(env) as third:  # and nothing is left to send again
            await settle(receiver)
            await third.terminate()
        assert receiver.ids() == [rid]
    finally:
        await receiver.stop()


async def test_kill9_mid_delivery_then_restart_delivers_once(tmp_path):
    """Killed while its attempt hangs at the receiver: the restart releases the dead claim and sends it."""
    receiver = await Receiver().start()
    receiver.mode = "hang"
    env = sqlite_env(tmp_path, receiver)
    try:
        first = await spawn(env, "--submit", "1", "--lease", "600")
        (rid,) = first.submitted
        await eventually(lambda: receiver.hits >= 1)
        await first.kill9()
        receiver.mode = "ok"
        async with running(env, "--lease", "600") as second:
            await eventually(lambda: receiver.ids() == [rid], timeout=10)  # long before a 600 s lease ends
            await settle(receiver)
            await second.terminate()
        assert receiver.ids() == [rid]
    finally:
        await receiver.stop()


async def test_kill9_mid_delivery_on_postgres_waits_out_the_lease_once(tmp_path, pg):
    receiver = await Receiver().start()
    receiver.mode = "hang"
    env = pg_env(tmp_path, receiver, pg, Fernet.generate_key().decode())
    try:
        first = await spawn(env, "--submit", "1", "--lease", "3")
        (rid,) = first.submitted
        await eventually(lambda: receiver.hits >= 1)
        await first.kill9()
        receiver.mode = "ok"
        async with running(env, "--lease", "3") as second:
            await eventually(lambda: receiver.ids() == [rid], timeout=15)
            await settle(receiver)
            await second.terminate()
        assert receiver.ids() == [rid]
    finally:
        await receiver.stop()


async def test_two_processes_share_one_postgres_outbox_each_request_once(tmp_path, pg):
    """Both submit and both deliver, while the receiver fails some posts: every request arrives once."""
    receiver = await Receiver().start()
    per_process = 60
    flaky = {"n": 0}
    original = receiver._take

    async def sometimes_500(request):
        flaky["n"] += 1
        if flaky["n"] % 5 == 0:
            receiver.hits += 1
            from aiohttp import web

            return web.Response(status=500)
        return await original(request)

    receiver._take = sometimes_500  # type: ignore[method-assign]
    await receiver.stop()
    await receiver.start()
    env = pg_env(tmp_path, receiver, pg, Fernet.generate_key().decode())
    try:
        started = time.monotonic()
        a, b = await asyncio.gather(spawn(env, "--submit", str(per_process)), spawn(env, "--submit", str(per_process)))
        submitted = a.submitted + b.submitted
        assert len(set(submitted)) == 2 * per_process
        await eventually(lambda: len(set(receiver.ids())) == len(submitted), timeout=60)
        elapsed = time.monotonic() - started
        await settle(receiver)
        codes = await asyncio.gather(a.terminate(), b.terminate())
        counts = collections.Counter(receiver.ids())
        stats = [line for p in (a, b) for line in p.lines if line.startswith("STOPPED")]
        print(f"{len(counts)} requests from 2 processes delivered in {elapsed:.1f}s; duplicates: {sum(c - 1 for c in counts.values())}; {stats}")
        assert codes == [0, 0]
        assert set(counts) == set(submitted) and max(counts.values()) == 1
        delivered = [int(line.split("delivered=")[1]) for line in stats]
        assert sum(delivered) == len(submitted) and all(d > 0 for d in delivered)  # both did a share
    finally:
        await receiver.stop()
