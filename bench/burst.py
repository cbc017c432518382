"""A surge at one ``frontdoor serve`` on Redis: 1,000 SMS senders and 500 web chat sockets at once (issue 15).

Everyone is released together (tests/oncall/burst.py is the driver; the
suite runs a smaller burst of it). The server runs in its own process, on
the machine's Redis (database 11, flushed), with the default pool
(FRONTDOOR_REDIS_MAX_CONNECTIONS=64). The figures: replies, degraded
replies as the server counted them, replies without the number, and p50/p99
latency per channel. The goal: zero degraded, every reply with the number.

    python bench/burst.py [--senders 1000] [--sockets 500]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402

from tests.oncall import process  # noqa: E402
from tests.oncall.burst import Result, burst, server_env  # noqa: E402

REDIS_DB = "redis://127.0.0.1:6379/11"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--senders", type=int, default=1000)
    p.add_argument("--sockets", type=int, default=500)
    args = p.parse_args()
    client = redis.Redis.from_url(REDIS_DB)
    client.flushdb()
    with tempfile.TemporaryDirectory() as tmp:
        env = process.base_env(Path(tmp), process.free_port(), **server_env(REDIS_DB))
        server = process.start(env, Path(tmp) / "serve.log")
        try:
            r = asyncio.run(burst(server.url, args.senders, args.sockets))
        finally:
            server.terminate()
            client.flushdb()
    print(f"{args.senders} SMS senders and {args.sockets} web chat sockets at once, one frontdoor serve on Redis (pool 64)")
    print(f"  replies {r.answered}, failed {r.failed}, without the number {r.without_number}, degraded (server's count) {r.degraded:g}")
    print(f"  SMS  p50 {Result.p(r.sms_latencies, 0.5):7.1f} ms   p99 {Result.p(r.sms_latencies, 0.99):7.1f} ms")
    print(f"  web  p50 {Result.p(r.web_latencies, 0.5):7.1f} ms   p99 {Result.p(r.web_latencies, 0.99):7.1f} ms")
    ok = r.failed == 0 and r.without_number == 0 and r.degraded == 0 and r.answered == args.senders + 2 * args.sockets
    print(f"goal (zero degraded, every reply with the number): {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
