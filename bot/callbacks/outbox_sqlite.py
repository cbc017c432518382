"""The embedded outbox: one SQLite file in the data folder (WAL, fsync on every commit).

Chosen for a single replica: nothing to run beside the bot, and a request is
on disk before the person is told it is with the team (``synchronous=FULL``:
the WAL is fsynced at each commit, so neither a crash nor a power cut loses
a confirmed request).

Deleted rows leave nothing behind: ``secure_delete`` zeroes freed space and
the WAL is truncated after a request is delivered or withdrawn, so the file
keeps no copy, not even encrypted, of a request that has gone.

The process that opens the file first takes an advisory lock beside it; as
the only user it can release claims left by a predecessor that was killed
mid-delivery, so a restart retries those at once instead of after the lease.
A second process on the same folder works too, waiting out leases instead.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
from pathlib import Path

import aiosqlite

from bot.callbacks.outbox import Backlog, Stored, WithdrawResult, id_hash, join_acked, split_acked

DB_FILE = "callback-outbox.sqlite3"

SCHEMA = """
CREATE TABLE IF NOT EXISTS callback_outbox (
    id TEXT PRIMARY KEY,
    created_at REAL NOT NULL,
    payload BLOB NOT NULL,
    acked TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    claimed_until REAL NOT NULL DEFAULT 0,
    claim_owner TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS callback_delivered (
    id_hash TEXT PRIMARY KEY,
    delivered_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS callback_meta (
    k TEXT PRIMARY KEY,
    v REAL NOT NULL
);
"""


class SQLiteOutbox:
    kind = "sqlite"

    def __init__(self, path: Path, *, busy_timeout: float = 5.0) -> None:
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        self._db: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        self._lock_fd: int | None = None

    @classmethod
    def in_folder(cls, data_dir: Path) -> "SQLiteOutbox":
        return cls(Path(data_dir) / DB_FILE)

    async def open(self) -> None:
        async with self._lock:
            await self._open()

    async def _open(self) -> aiosqlite.Connection:
        if self._db is not None:
            return self._db
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Create the file ourselves so it (and SQLite's -wal and -shm, which copy its mode) is 0600.
        os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
        db = await aiosqlite.connect(self.path, isolation_level=None, timeout=self.busy_timeout)
        try:
            mode = await (await db.execute("PRAGMA journal_mode=WAL")).fetchone()
            if not mode or str(mode[0]).lower() != "wal":
                raise OSError("the callback outbox could not switch to WAL mode")
            await db.execute("PRAGMA synchronous=FULL")
            await db.execute("PRAGMA secure_delete=ON")
            await db.executescript(SCHEMA)
            if self._take_file_lock():
                await db.execute("UPDATE callback_outbox SET claimed_until = 0, claim_owner = '' WHERE claim_owner != ''")
        except BaseException:
            await db.close()
            raise
        self._db = db
        return db

    def _take_file_lock(self) -> bool:
        """True if no other process has this outbox open (the lock goes with the process)."""
        if self._lock_fd is not None:
            return True
        fd = os.open(str(self.path) + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._lock_fd = fd
        return True

    async def close(self) -> None:
        async with self._lock:
            if self._db is not None:
                db, self._db = self._db, None
                await db.close()
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None

    async def add(self, request_id: str, created_at: float, payload: bytes) -> None:
        async with self._lock:
            db = await self._open()
            await db.execute(
                "INSERT INTO callback_outbox (id, created_at, payload, next_attempt_at) VALUES (?, ?, ?, ?)",
                (request_id, created_at, payload, created_at),
            )

    async def claim(self, owner: str, now: float, lease: float, limit: int, *, due_only: bool) -> list[Stored]:
        async with self._lock:
            db = await self._open()
            cur = await db.execute(
                "UPDATE callback_outbox SET claimed_until = ?, claim_owner = ? WHERE id IN ("
                " SELECT id FROM callback_outbox WHERE claimed_until <= ? AND (next_attempt_at <= ? OR ?)"
                " ORDER BY created_at LIMIT ?)"
                " RETURNING id, created_at, payload, acked, attempts",
                (now + lease, owner, now, now, 0 if due_only else 1, limit),
            )
            rows = await cur.fetchall()
        stored = [Stored(r[0], r[1], bytes(r[2]), split_acked(r[3]), r[4]) for r in rows]
        return sorted(stored, key=lambda s: s.created_at)

    async def release(self, request_id: str, owner: str, acked: frozenset[str], attempts: int, next_attempt_at: float) -> None:
        async with self._lock:
            db = await self._open()
            await db.execute(
                "UPDATE callback_outbox SET acked = ?, attempts = ?, next_attempt_at = ?, claimed_until = 0, claim_owner = ''"
                " WHERE id = ? AND claim_owner = ?",
                (join_acked(acked), attempts, next_attempt_at, request_id, owner),
            )

    async def complete(self, request_id: str, now: float) -> None:
        async with self._lock:
            db = await self._open()
            await db.execute("BEGIN IMMEDIATE")
            try:
                await db.execute(
                    "INSERT INTO callback_delivered (id_hash, delivered_at) VALUES (?, ?) ON CONFLICT (id_hash) DO NOTHING",
                    (id_hash(request_id), now),
                )
                await db.execute("DELETE FROM callback_outbox WHERE id = ?", (request_id,))
                await db.execute("COMMIT")
            except BaseException:
                await db.execute("ROLLBACK")
                raise
            await self._truncate_wal(db)

    async def withdraw(self, request_id: str, now: float) -> WithdrawResult:
        async with self._lock:
            db = await self._open()
            cur = await db.execute(
                "DELETE FROM callback_outbox WHERE id = ? AND acked = '' AND claimed_until <= ?", (request_id, now)
            )
            if cur.rowcount == 1:
                await self._truncate_wal(db)
                return "withdrawn"
            row = await (await db.execute("SELECT acked FROM callback_outbox WHERE id = ?", (request_id,))).fetchone()
            if row is not None:
                return "delivered" if row[0] else "claimed"
            tomb = await (
                await db.execute("SELECT 1 FROM callback_delivered WHERE id_hash = ?", (id_hash(request_id),))
            ).fetchone()
            return "delivered" if tomb else "unknown"

    async def backlog(self) -> Backlog:
        async with self._lock:
            db = await self._open()
            row = await (await db.execute("SELECT COUNT(*), MIN(created_at) FROM callback_outbox")).fetchone()
        return Backlog(int(row[0]), row[1])

    async def next_due(self) -> float | None:
        async with self._lock:
            db = await self._open()
            row = await (await db.execute("SELECT MIN(MAX(next_attempt_at, claimed_until)) FROM callback_outbox")).fetchone()
        return row[0]

    async def probe(self) -> None:
        async with self._lock:
            db = await self._open()
            await db.execute(
                "INSERT INTO callback_meta (k, v) VALUES ('probe', strftime('%s', 'now')) ON CONFLICT (k) DO UPDATE SET v = excluded.v"
            )

    async def purge_tombstones(self, before: float) -> None:
        async with self._lock:
            db = await self._open()
            await db.execute("DELETE FROM callback_delivered WHERE delivered_at < ?", (before,))

    async def reseal(self, request_id: str, old: bytes, new: bytes) -> None:
        async with self._lock:
            db = await self._open()
            await db.execute("UPDATE callback_outbox SET payload = ? WHERE id = ? AND payload = ?", (new, request_id, old))

    async def all_payloads(self) -> list[tuple[str, bytes]]:
        async with self._lock:
            db = await self._open()
            rows = await (await db.execute("SELECT id, payload FROM callback_outbox")).fetchall()
        return [(r[0], bytes(r[1])) for r in rows]

    async def _truncate_wal(self, db: aiosqlite.Connection) -> None:
        """Fold the WAL into the (securely deleted) file and cut it to zero bytes."""
        try:
            await db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except Exception:  # a busy reader elsewhere: the next checkpoint catches up
            pass
