"""Sessions that end leave nothing behind in the process.

bench/sessions_memory.py runs the issue's full count (100,000 sessions
started and ended, RSS within 10% of the start); this test runs a smaller
count and checks the stronger thing underneath it: after warm-up, Python
allocations do not grow with the number of sessions that have come and gone.
"""

from __future__ import annotations

import gc
import tracemalloc

from bot.conversation.events import Channel, Inbound
from bot.gateway import Gateway
from bot.stores.memory import MemoryStore
from tests.conftest import AcceptingOutbox, FAKE_MOBILE, make_engine

T = Channel.TERMINAL



async def _conversations(gw: Gateway, start: int, count: int) -> None:
    for i in range(start, start + count):
        key = f"terminal:{i:08x}"
        for text in ("hi", "2", FAKE_MOBILE, "end"):
            await gw.handle(T, key, Inbound.typed(T, text))


async def test_ended_sessions_leave_no_memory_behind():
    store = MemoryStore()
    gw = Gateway(make_engine(), store, AcceptingOutbox(), rate_limit_per_minute=10)
    await _conversations(gw, 0, 300)  # warm caches (rendered replies, matchers)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    await _conversations(gw, 300, 3000)
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert await store.count() == 0
    # 3,000 sessions of a few hundred bytes each would be ~1 MB if any were kept.
    assert after - before < 64 * 1024, f"{after - before} bytes kept after 3,000 ended sessions"
