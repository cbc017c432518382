"""What is on disk, read raw: while a request waits (nothing in the clear) and after delivery (nothing left)."""

from __future__ import annotations

import os
from pathlib import Path

import asyncpg

from bot.callbacks.outbox import id_hash
from bot.callbacks.outbox_postgres import PostgresOutbox
from bot.callbacks.outbox_sqlite import DB_FILE, SQLiteOutbox
from tests.callbacks.conftest import NAME, PG_URL, MemorySink, details, service
from tests.support import eventually

CLEAR_FORMS = [b"7700900123", b"07700 900123", b"+447700900123", NAME.encode(), b"as soon as possible"]


def raw_sqlite(folder: Path) -> bytes:
    """The database file and its WAL and shared-memory files, byte for byte."""
    return b"".join(p.read_bytes() for p in sorted(folder.glob(DB_FILE + "*")) if not p.name.endswith(".lock"))


async def test_sqlite_file_holds_no_number_while_waiting_and_nothing_after(tmp_path):
    sink = MemorySink(failing=True)
    svc = service(SQLiteOutbox.in_folder(tmp_path), [sink])
    await svc.start()
    try:
        rid = await svc.submit(details(name=NAME))
        await eventually(lambda: sink.attempts >= 2)
        assert (tmp_path / (DB_FILE + "-wal")).exists()
        raw = raw_sqlite(tmp_path)
        assert rid.encode() in raw  # the row is really there...
        for clear in CLEAR_FORMS:
            assert clear not in raw  # ...sealed
        assert oct(os.stat(tmp_path / DB_FILE).st_mode & 0o777) == "0o600"

        sink.failing = False
        await eventually(lambda: sink.ids == [rid])
        await eventually(lambda: svc.dispatcher.delivered == 1)
        raw = raw_sqlite(tmp_path)
        assert rid.encode() not in raw  # secure_delete and the truncated WAL leave no trace of the row
        assert b"gAAAAA" not in raw  # nor any sealed request
        assert id_hash(rid).encode() in raw  # only the tombstone's hash, for "delivered"
    finally:
        await svc.stop()
    raw = raw_sqlite(tmp_path)
    for clear in CLEAR_FORMS + [rid.encode()]:
        assert clear not in raw


async def test_withdrawn_leaves_nothing_either(tmp_path):
    svc = service(SQLiteOutbox.in_folder(tmp_path), [MemorySink()])
    rid = await svc.submit(details(name=NAME))
    assert await svc.cancel(rid) == "withdrawn"
    raw = raw_sqlite(tmp_path)
    assert rid.encode() not in raw and b"gAAAAA" not in raw and id_hash(rid).encode() not in raw
    await svc.stop()


async def test_postgres_table_holds_no_number_while_waiting_and_nothing_after(pg):
    sink = MemorySink(failing=True)
    svc = service(PostgresOutbox(PG_URL, schema=pg), [sink])
    await svc.start()
    conn = await asyncpg.connect(PG_URL, server_settings={"search_path": pg})
    try:
        rid = await svc.submit(details(name=NAME))
        await eventually(lambda: sink.attempts >= 2)
        rows = await conn.fetch("SELECT * FROM callback_outbox")
        assert len(rows) == 1 and rows[0]["id"] == rid and bytes(rows[0]["payload"]).startswith(b"gAAAAA")
        dump = (repr([dict(r) for r in rows]) + repr(await conn.fetch("SELECT * FROM callback_delivered"))).encode()
        for clear in CLEAR_FORMS:
            assert clear not in dump
        # and the table's own file, as PostgreSQL wrote it (readable when the tests run as root or postgres)
        await conn.execute("CHECKPOINT")
        data_dir = await conn.fetchval("SHOW data_directory")
        heap = Path(data_dir) / await conn.fetchval("SELECT pg_relation_filepath('callback_outbox')")
        if os.access(heap, os.R_OK):
            raw = heap.read_bytes()
            assert rid.encode() in raw
            for clear in CLEAR_FORMS:
                assert clear not in raw

        sink.failing = False
        await eventually(lambda: svc.dispatcher.delivered == 1)
        assert await conn.fetch("SELECT * FROM callback_outbox") == []
        tombs = await conn.fetch("SELECT * FROM callback_delivered")
        assert [t["id_hash"] for t in tombs] == [id_hash(rid)] and rid not in repr(tombs)
    finally:
        await conn.close()
        await svc.stop()
