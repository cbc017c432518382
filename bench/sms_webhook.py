"""Signed Twilio webhooks per second, and p50/p99 latency, through the whole bot (issue 4).

Two servers, each in its own process pinned to CPU 0, measured in turns:

* ``bare``: an aiohttp handler that parses the same form and returns the same
  TwiML the bot builds (stdlib-escaped, not twilio's slower element tree), with
  no signature check and no conversation: the floor;
* ``bot``: ``frontdoor``'s real app (signature check with Twilio's
  RequestValidator, keywords, duplicate check, rate limit, session store,
  triage, engine, TwiML), sessions in memory;
* ``bot-redis``: the same app with sessions on the machine's Redis (database
  10, flushed): two round trips a message (bot/stores/redis_scripts.py).
  Issue 15's goal: at least 0.3x the bare rate, no degraded reply.

The load generator is this process, pinned to CPU 1, an aiohttp client with
32 connections; every request is signed beforehand (as Twilio would), each
from a fake sender texting a short conversation. Target: the bot at least
half the bare handler's throughput, with p99 under 25 ms at 32 connections.

    python bench/sms_webhook.py [--requests 4000] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiohttp import ClientSession, TCPConnector, web  # noqa: E402

from tests.oncall.burst import degraded_count  # noqa: E402

TOKEN = "bench-twilio-auth-token"
REDIS_DB = "redis://127.0.0.1:6379/10"
SCRIPT = ("hi", "2", "this number", "1", "menu")  # a conversation a sender texts


def _pin(cpu: int) -> None:
    if hasattr(os, "sched_setaffinity") and cpu < (os.cpu_count() or 1):
        os.sched_setaffinity(0, {cpu})


def serve(kind: str, port_file: str) -> None:
    _pin(0)

    async def main() -> None:
        if kind == "bare":
            from bot.channels.twilio_sms import twiml  # the least a correct reply needs: the bot's own escaped TwiML

            async def handler(request: web.Request) -> web.Response:
                form = await request.post()
                return twiml([f"Got it ({len(str(form.get('Body', '')))} characters). Crisis line: 0300 131 2789, any time. In danger now: 999."])

            app = web.Application()
            app.router.add_post("/sms/twilio", handler)
        else:
            from bot.config import load
            from bot.runtime import open_runtime
            from bot.web.app import create_app

            env = {"FRONTDOOR_ENV": "development", "FRONTDOOR_DATA_DIR": tempfile.mkdtemp(), "FRONTDOOR_TWILIO_AUTH_TOKEN": TOKEN, "FRONTDOOR_LOG_LEVEL": "ERROR", "FRONTDOOR_RATE_LIMIT_PER_MINUTE": "100"}
            if kind == "bot-redis":
                import redis

                redis.Redis.from_url(REDIS_DB).flushdb()
                env.update({"FRONTDOOR_REDIS_URL": REDIS_DB, "FRONTDOOR_HASH_SECRET": "bench-hash-secret-0123456789abcdef"})
            import logging

            logging.basicConfig(level=logging.ERROR)
            app = create_app(await open_runtime(load(env)))
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        Path(port_file).write_text(str(site._server.sockets[0].getsockname()[1]))  # type: ignore[union-attr]
        await asyncio.Event().wait()

    asyncio.run(main())


def _requests(url: str, count: int, offset: int) -> list[tuple[dict, str]]:
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(TOKEN)
    out = []
    senders = max(1, count // len(SCRIPT))
    for n in range(count):
        # Step by step across all senders, as people text: one sender's next message comes
        # after the bot answered the last, not 32 at once on the same session lock.
        step, who = divmod(n, senders)
        sender = f"+4477009{(offset // len(SCRIPT) + who) % 100000:05d}"
        params = {"MessageSid": f"SM{offset + n:032x}", "AccountSid": "AC" + "0" * 32, "From": sender, "To": "+447700900999", "Body": SCRIPT[step % len(SCRIPT)], "NumMedia": "0"}
        out.append((params, validator.compute_signature(url, params)))
    return out


async def measure(kind: str, count: int, concurrency: int, offset: int) -> tuple[float, float, float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        port_file = Path(tmp) / "port"
        proc = subprocess.Popen([sys.executable, __file__, "--serve", kind, "--port-file", str(port_file)])
        try:
            while not port_file.exists() or not port_file.read_text():
                if proc.poll() is not None:
                    raise SystemExit(f"{kind} server exited")
                await asyncio.sleep(0.05)
            url = f"http://127.0.0.1:{port_file.read_text()}/sms/twilio"
            work = _requests(url, count, offset)
            latencies: list[float] = []
            async with ClientSession(connector=TCPConnector(limit=concurrency)) as http:
                async def warm(params, sig) -> None:
                    async with http.post(url, data=params, headers={"X-Twilio-Signature": sig}) as r:
                        await r.read()

                # Warm-up on every connection, so the timed run measures requests, not TCP set-up.
                await asyncio.gather(*(warm(p, s) for p, s in _requests(url, concurrency * 4, offset + 10_000_000)))
                queue = iter(work)

                async def worker() -> None:
                    for params, sig in queue:
                        t0 = time.perf_counter()
                        async with http.post(url, data=params, headers={"X-Twilio-Signature": sig}) as r:
                            await r.read()
                            assert r.status == 200, r.status
                        latencies.append(time.perf_counter() - t0)

                started = time.perf_counter()
                await asyncio.gather(*(worker() for _ in range(concurrency)))
                elapsed = time.perf_counter() - started
                # The server's own count of degraded replies; the bare handler has no /metrics.
                degraded = 0.0 if kind == "bare" else await degraded_count(http, url.rsplit("/sms/", 1)[0])
        finally:
            proc.kill()
            proc.wait()
    latencies.sort()
    return count / elapsed, latencies[len(latencies) // 2] * 1000, latencies[int(len(latencies) * 0.99)] * 1000, degraded


async def run(count: int, concurrency: int, rounds: int) -> None:
    _pin(1)
    results: dict[str, list[tuple[float, float, float, float]]] = {"bare": [], "bot": [], "bot-redis": []}
    for r in range(rounds):
        for i, kind in enumerate(results):
            results[kind].append(await measure(kind, count, concurrency, (r * 2 + i) * count))
    med = {k: tuple(statistics.median(x[j] for x in v) for j in range(3)) for k, v in results.items()}
    degraded = {k: max(x[3] for x in v) for k, v in results.items()}
    print(f"{count} signed webhooks per round, {rounds} rounds, {concurrency} connections, server on one core; medians")
    print("  server    requests/s   ratio   p50 ms   p99 ms   degraded")
    for kind, (rate, p50, p99) in med.items():
        print(f"  {kind:9s} {rate:8.0f}   {rate / med['bare'][0]:5.2f}   {p50:6.1f}   {p99:6.1f}   {degraded[kind]:8.0f}")
    ok = med["bot"][0] >= 0.5 * med["bare"][0] and med["bot"][2] < 25
    print(f"target (at least half the bare rate, p99 under 25 ms): {'met' if ok else 'NOT met'}")
    on_redis = med["bot-redis"][0] >= 0.3 * med["bare"][0] and degraded["bot-redis"] == 0
    print(f"on Redis (at least 0.3x the bare rate, no degraded reply): {'met' if on_redis else 'NOT met'}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--requests", type=int, default=4000)
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--serve", choices=("bare", "bot", "bot-redis"), help=argparse.SUPPRESS)
    p.add_argument("--port-file", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.serve:
        serve(args.serve, args.port_file)
        return
    asyncio.run(run(args.requests, args.concurrency, args.rounds))


if __name__ == "__main__":
    main()
