"""The outbox contract, run against both backends (SQLite file, PostgreSQL schema)."""

from __future__ import annotations

import time

from bot.callbacks.outbox import TOMBSTONE_SECONDS

OWNER_A, OWNER_B = "owner-a", "owner-b"


async def test_a_request_waits_until_completed_then_leaves_a_tombstone(outbox):
    now = time.time()
    await outbox.add("r1", now, b"sealed-1")
    assert (await outbox.backlog()).waiting == 1
    rows = await outbox.claim(OWNER_A, now, 30, 10, due_only=True)
    assert [(r.id, r.payload, r.acked, r.attempts) for r in rows] == [("r1", b"sealed-1", frozenset(), 0)]
    await outbox.complete("r1", now)
    backlog = await outbox.backlog()
    assert backlog.waiting == 0 and backlog.oldest_created_at is None
    assert await outbox.withdraw("r1", now) == "delivered"
    assert await outbox.withdraw("never-made", now) == "unknown"


async def test_a_claimed_row_is_not_claimed_again_until_its_lease_ends(outbox):
    now = time.time()
    await outbox.add("r1", now, b"x")
    assert len(await outbox.claim(OWNER_A, now, 30, 10, due_only=True)) == 1
    assert await outbox.claim(OWNER_B, now + 1, 30, 10, due_only=True) == []
    again = await outbox.claim(OWNER_B, now + 31, 30, 10, due_only=True)
    assert [r.id for r in again] == ["r1"]


async def test_release_keeps_acks_schedules_and_only_by_the_owner(outbox):
    now = time.time()
    await outbox.add("r1", now, b"x")
    await outbox.claim(OWNER_A, now, 30, 10, due_only=True)
    await outbox.release("r1", OWNER_B, frozenset({"email"}), 9, now)  # not the owner: ignored
    await outbox.release("r1", OWNER_A, frozenset({"webhook"}), 1, now + 100)
    assert await outbox.claim(OWNER_A, now + 1, 30, 10, due_only=True) == []  # not due yet
    assert await outbox.next_due() == now + 100
    rows = await outbox.claim(OWNER_A, now + 1, 30, 10, due_only=False)  # a fresh start ignores the schedule
    assert rows[0].acked == frozenset({"webhook"}) and rows[0].attempts == 1


async def test_claims_come_oldest_first_in_batches(outbox):
    now = time.time()
    for i in range(5):
        await outbox.add(f"r{i}", now + i, b"x")
    first = await outbox.claim(OWNER_A, now + 10, 30, 3, due_only=True)
    second = await outbox.claim(OWNER_B, now + 10, 30, 3, due_only=True)
    assert [r.id for r in first] == ["r0", "r1", "r2"] and [r.id for r in second] == ["r3", "r4"]
    backlog = await outbox.backlog()
    assert backlog.waiting == 5 and backlog.oldest_created_at == now


async def test_withdraw_only_what_no_sink_has_and_no_one_is_delivering(outbox):
    now = time.time()
    for rid in ("free", "claimed", "partly"):
        await outbox.add(rid, now, b"x")
    assert await outbox.withdraw("free", now) == "withdrawn"
    assert await outbox.withdraw("free", now) == "unknown"  # withdrawn leaves no tombstone
    await outbox.claim(OWNER_A, now, 30, 10, due_only=True)
    assert await outbox.withdraw("claimed", now) == "claimed"
    await outbox.release("claimed", OWNER_A, frozenset(), 1, now)
    assert await outbox.withdraw("claimed", now) == "withdrawn"
    await outbox.release("partly", OWNER_A, frozenset({"webhook"}), 1, now)
    assert await outbox.withdraw("partly", now) == "delivered"  # one sink has it: the team may call
    assert (await outbox.backlog()).waiting == 1


async def test_tombstones_are_purged_after_a_day(outbox):
    now = time.time()
    await outbox.add("r1", now, b"x")
    await outbox.complete("r1", now)
    await outbox.purge_tombstones(now - TOMBSTONE_SECONDS)
    assert await outbox.withdraw("r1", now) == "delivered"
    await outbox.purge_tombstones(now + 1)
    assert await outbox.withdraw("r1", now) == "unknown"


async def test_probe_and_reseal(outbox):
    now = time.time()
    await outbox.probe()
    await outbox.add("r1", now, b"old")
    await outbox.reseal("r1", b"other", b"lost")  # changed meanwhile: untouched
    await outbox.reseal("r1", b"old", b"new")
    assert await outbox.all_payloads() == [("r1", b"new")]
