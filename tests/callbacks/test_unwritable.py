"""The outbox can't be written when someone confirms: submit raises OutboxUnavailable, nothing claims success.

Real failures, not mocks: a read-only data folder, an SQLite database that is
full, PostgreSQL on a closed port, and a PostgreSQL server of our own stopped
mid-run and started again.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from bot.callbacks.base import OutboxUnavailable
from bot.callbacks.outbox_postgres import PostgresOutbox
from bot.callbacks.outbox_sqlite import SQLiteOutbox
from tests.callbacks.conftest import MemorySink, details, service
from tests.callbacks.pg_server import OwnPostgres
from tests.support import eventually, free_port


@contextlib.contextmanager
def read_only(folder: Path):
    """A folder nobody can write into: chattr +i as root (root ignores modes), chmod otherwise."""
    if os.geteuid() == 0:
        if not shutil.which("chattr") or subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode:
            pytest.skip("running as root without chattr +i: can't make a folder read-only")
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
    else:
        folder.chmod(0o500)
        try:
            yield
        finally:
            folder.chmod(0o700)


async def test_read_only_data_folder(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    sink = MemorySink()
    svc = service(SQLiteOutbox.in_folder(folder), [sink])
    with read_only(folder):
        await svc.start()  # the bot still starts, and gives people the number
        with pytest.raises(OutboxUnavailable):
            await svc.submit(details())
        health = await svc.health()
        assert health["writable"] is False and health["degraded"] is True
    rid = await svc.submit(details())  # writable again: the outbox opens and takes requests
    await eventually(lambda: sink.ids == [rid])
    await svc.stop()


async def test_sqlite_full(tmp_path):
    box = SQLiteOutbox.in_folder(tmp_path)
    svc = service(box, [MemorySink(failing=True)])
    await box.open()
    db = box._db
    pages = (await (await db.execute("PRAGMA page_count")).fetchone())[0]
    await db.execute(f"PRAGMA max_page_count = {pages}")  # the database can't grow: SQLITE_FULL, as on a full disk
    accepted, refused = [], 0
    for _ in range(200):
        try:
            accepted.append(await svc.submit(details()))
        except OutboxUnavailable:
            refused += 1
    assert refused > 0
    assert (await svc.health())["writable"] is False
    stored = {rid for rid, _ in await box.all_payloads()}
    assert stored == set(accepted)  # every id handed out is really there, and only those
    await svc.stop()


async def test_postgres_on_a_closed_port():
    svc = service(PostgresOutbox(f"postgresql://postgres@127.0.0.1:{free_port()}/test", connect_timeout=1), [MemorySink()])
    await svc.start()
    with pytest.raises(OutboxUnavailable):
        await svc.submit(details())
    health = await svc.health()
    assert health["writable"] is False and health["outbox"] == "postgresql"
    await svc.stop()


@pytest.mark.slow
async def test_postgres_stopped_mid_run_then_back():
    server = OwnPostgres().init()
    try:
        server.start()
        sink = MemorySink()
        svc = service(PostgresOutbox(server.url, connect_timeout=1, command_timeout=2), [sink], submit_timeout=3)
        await svc.start()
        before = await svc.submit(details())
        await eventually(lambda: sink.ids == [before])

        server.stop()
        with pytest.raises(OutboxUnavailable):
            await svc.submit(details())
        assert (await svc.health())["writable"] is False

        server.start()
        after = None
        for _ in range(50):  # the pool reconnects once the server is back
            try:
                after = await svc.submit(details())
                break
            except OutboxUnavailable:
                await asyncio.sleep(0.1)
        assert after is not None
        await eventually(lambda: sink.ids == [before, after])
        await svc.stop()
    finally:
        server.remove()
