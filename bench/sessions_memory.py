"""Memory after 100,000 sessions started and ended (issue 6): within 10% of the start.

Each session goes through the real gateway and the in-memory store (hi, ask
for a call back, a phone number, end). The process's resident memory is read
from /proc before and after, beside a baseline: the same number of plain
dicts created and dropped in the same run, which shows what the allocator
itself keeps.

    python bench/sessions_memory.py [--sessions 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.conversation.engine import Engine, EngineOptions  # noqa: E402
from bot.conversation.events import Channel, Inbound  # noqa: E402
from bot.conversation.flow import default_flows_dir  # noqa: E402
from bot.gateway import Gateway  # noqa: E402
from bot.stores.memory import MemoryStore  # noqa: E402

T = Channel.TERMINAL


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class NoOutbox:
    available = True

    async def submit(self, details):
        return "req"

    async def cancel(self, request_id):
        return "withdrawn"


async def run(count: int) -> None:
    engine = Engine.from_dir(default_flows_dir(), EngineOptions(allow_fictional_numbers=True))
    store = MemoryStore()
    gw = Gateway(engine, store, NoOutbox(), rate_limit_per_minute=100)

    async def sessions(start: int, n: int) -> None:
        for i in range(start, start + n):
            key = f"terminal:{i:08x}"
            for text in ("hi", "2", "07700 900123", "end"):
                await gw.handle(T, key, Inbound.typed(T, text))

    await sessions(0, 1000)  # warm-up: caches, interned strings
    gc.collect()
    start = rss_kib()
    await sessions(1000, count)
    gc.collect()
    end = rss_kib()
    growth = (end - start) / start
    print(f"sessions started and ended: {count:,}; active now: {await store.count()}")
    print(f"RSS before {start / 1024:.1f} MiB, after {end / 1024:.1f} MiB: {growth:+.1%} (target: within 10%)")

    base_start = rss_kib()
    held = [{"s": "menu", "t0": float(i), "t": float(i), "l": "en", "v": {"phone": "+447700900123"}} for i in range(count)]
    peak = rss_kib()
    del held
    gc.collect()
    base_end = rss_kib()
    print(f"baseline, {count:,} plain dicts made and dropped: peak {(peak - base_start) / 1024:+.1f} MiB, after {(base_end - base_start) / base_start:+.1%}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=100_000)
    args = parser.parse_args()
    asyncio.run(run(args.sessions))


if __name__ == "__main__":
    main()
