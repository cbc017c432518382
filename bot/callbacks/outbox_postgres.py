"""The shared outbox: PostgreSQL (asyncpg), for several replicas.

Every replica writes requests here and every replica's dispatcher drains it.
Claims are taken with ``FOR UPDATE SKIP LOCKED`` in one statement, so two
dispatchers never pick the same row, and a claim is a lease
(``claimed_until``): a replica that dies mid-delivery holds the row only
until the lease ends. A commit is durable when PostgreSQL says so
(``synchronous_commit`` as the server sets it; leave it on).

The pool is created lazily and again after a failure, so the bot starts and
answers people (with the number) while the database is down, and takes
requests again once it is back. Tables live in the connection's
``search_path``: pass ``schema`` (tests use one per run) or set it in the URL.
"""

from __future__ import annotations

import asyncio

import asyncpg

from bot.callbacks.outbox import Backlog, Stored, WithdrawResult, id_hash, join_acked, split_acked

SCHEMA = """
CREATE TABLE IF NOT EXISTS callback_outbox (
    id TEXT PRIMARY KEY,
    created_at DOUBLE PRECISION NOT NULL,
    payload BYTEA NOT NULL,
    acked TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at DOUBLE PRECISION NOT NULL,
    claimed_until DOUBLE PRECISION NOT NULL DEFAULT 0,
    claim_owner TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS callback_delivered (
    id_hash TEXT PRIMARY KEY,
    delivered_at DOUBLE PRECISION NOT NULL
);
CREATE TABLE IF NOT EXISTS callback_meta (
    k TEXT PRIMARY KEY,
    v DOUBLE PRECISION NOT NULL
);
"""

_SCHEMA_LOCK = 7_700_900_123  # advisory lock id: replicas starting together create the tables once


class PostgresOutbox:
    kind = "postgresql"

    def __init__(self, url: str, *, schema: str | None = None, connect_timeout: float = 5.0, command_timeout: float = 5.0, max_size: int = 4) -> None:
        self._url = url
        self._schema = schema
        self._connect_timeout = connect_timeout
        self._command_timeout = command_timeout
        self._max_size = max_size
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()

    async def open(self) -> None:
        await self._get()

    async def _get(self) -> asyncpg.Pool:
        if self._pool is not None:
            return self._pool
        async with self._opening:
            if self._pool is not None:
                return self._pool
            settings = {"application_name": "frontdoor-callbacks"}
            if self._schema:
                settings["search_path"] = self._schema
            pool = await asyncpg.create_pool(
                self._url,
                min_size=1,
                max_size=self._max_size,
                timeout=self._connect_timeout,
                command_timeout=self._command_timeout,
                server_settings=settings,
            )
            try:
                async with pool.acquire() as conn, conn.transaction():
                    await conn.execute("SELECT pg_advisory_xact_lock($1)", _SCHEMA_LOCK)
                    await conn.execute(SCHEMA)
            except BaseException:
                await pool.close()
                raise
            self._pool = pool
            return pool

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            try:
                await asyncio.wait_for(pool.close(), 0.8)
            except (TimeoutError, OSError, asyncpg.PostgresError):
                pool.terminate()

    async def _execute(self, query: str, *args: object) -> str:
        return await (await self._get()).execute(query, *args)

    async def add(self, request_id: str, created_at: float, payload: bytes) -> None:
        await self._execute(
            "INSERT INTO callback_outbox (id, created_at, payload, next_attempt_at) VALUES ($1, $2, $3, $2)",
            request_id, created_at, payload,
        )

    async def claim(self, owner: str, now: float, lease: float, limit: int, *, due_only: bool) -> list[Stored]:
        rows = await (await self._get()).fetch(
            "UPDATE callback_outbox o SET claimed_until = $1, claim_owner = $2 FROM ("
            " SELECT id FROM callback_outbox WHERE claimed_until <= $3 AND (next_attempt_at <= $3 OR $4)"
            " ORDER BY created_at LIMIT $5 FOR UPDATE SKIP LOCKED) c"
            " WHERE o.id = c.id RETURNING o.id, o.created_at, o.payload, o.acked, o.attempts",
            now + lease, owner, now, not due_only, limit,
        )
        stored = [Stored(r["id"], r["created_at"], bytes(r["payload"]), split_acked(r["acked"]), r["attempts"]) for r in rows]
        return sorted(stored, key=lambda s: s.created_at)

    async def release(self, request_id: str, owner: str, acked: frozenset[str], attempts: int, next_attempt_at: float) -> None:
        await self._execute(
            "UPDATE callback_outbox SET acked = $1, attempts = $2, next_attempt_at = $3, claimed_until = 0, claim_owner = ''"
            " WHERE id = $4 AND claim_owner = $5",
            join_acked(acked), attempts, next_attempt_at, request_id, owner,
        )

    async def complete(self, request_id: str, now: float) -> None:
        async with (await self._get()).acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO callback_delivered (id_hash, delivered_at) VALUES ($1, $2) ON CONFLICT (id_hash) DO NOTHING",
                id_hash(request_id), now,
            )
            await conn.execute("DELETE FROM callback_outbox WHERE id = $1", request_id)

    async def withdraw(self, request_id: str, now: float) -> WithdrawResult:
        pool = await self._get()
        gone = await pool.fetchval(
            "DELETE FROM callback_outbox WHERE id = $1 AND acked = '' AND claimed_until <= $2 RETURNING id", request_id, now
        )
        if gone is not None:
            return "withdrawn"
        acked = await pool.fetchval("SELECT acked FROM callback_outbox WHERE id = $1", request_id)
        if acked is not None:
            return "delivered" if acked else "claimed"
        tomb = await pool.fetchval("SELECT 1 FROM callback_delivered WHERE id_hash = $1", id_hash(request_id))
        return "delivered" if tomb else "unknown"

    async def backlog(self) -> Backlog:
        row = await (await self._get()).fetchrow("SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM callback_outbox")
        return Backlog(int(row["n"]), row["oldest"])

    async def next_due(self) -> float | None:
        return await (await self._get()).fetchval("SELECT MIN(GREATEST(next_attempt_at, claimed_until)) FROM callback_outbox")

    async def probe(self) -> None:
        await self._execute(
            "INSERT INTO callback_meta (k, v) VALUES ('probe', extract(epoch FROM now())) ON CONFLICT (k) DO UPDATE SET v = excluded.v"
        )

    async def purge_tombstones(self, before: float) -> None:
        await self._execute("DELETE FROM callback_delivered WHERE delivered_at < $1", before)

    async def reseal(self, request_id: str, old: bytes, new: bytes) -> None:
        await self._execute("UPDATE callback_outbox SET payload = $1 WHERE id = $2 AND payload = $3", new, request_id, old)

    async def all_payloads(self) -> list[tuple[str, bytes]]:
        rows = await (await self._get()).fetch("SELECT id, payload FROM callback_outbox")
        return [(r["id"], bytes(r["payload"])) for r in rows]
