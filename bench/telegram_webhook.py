"""Telegram updates per second through our webhook, beside a bare aiohttp handler, in the same run.

Each update is a private message posted to the server under test, and each
is answered with one sendMessage to a fake Bot API (the same one the tests
use, tests/telegram/fake_bot_api.py). The figure is the rate from the first
post until the fake has received every sendMessage. Three servers, each in
its own process, measured in turns:

* ``bare``: an aiohttp handler that parses the update with ``json`` and makes
  the same sendMessage call (same text and keyboard) with a plain aiohttp
  client: the floor any Telegram bot in Python pays;
* ``ptb``: PTB's real objects between the same two points: our webhook route
  (secret check, ``Update.de_json``), PTB's Application, our per-chat
  processor, the rate limiter and ``Bot.send_message`` over HTTPX; the handler
  sends the reply directly, with no conversation;
* ``channel``: the whole Telegram channel as it runs: the above plus the
  adapter, the gateway (rate limit, lock, session load/save, triage, engine)
  and the in-memory session store.

The load generator and the fake Bot API share this process, so their cost is
the same for every server. Telegram's overall 30 messages/second pacing is
switched off in the rate limiter for the run (it would measure Telegram's
rule, not our code); the limiter object stays in the path.

Target (issue 3): ``channel`` at least half the ``bare`` rate.

    python bench/telegram_webhook.py [--updates 3000] [--concurrency 64] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiohttp import ClientSession, TCPConnector, web  # noqa: E402

from tests.telegram.fake_bot_api import TOKEN, FakeBotAPI  # noqa: E402

SECRET = "bench-webhook-secret-0123456789"
SERVERS = ("bare", "ptb", "channel")


# --- the servers under test (child processes) --------------------------------------------


def _welcome():
    """The reply the channel really sends to "hello": all three servers send exactly this.

    Text and keyboard come from the shipped flow (no callback sink in the bench,
    so the call back button is hidden, as in the channel server), so the bare
    handler pays for the same keyboard the bot sends.
    """
    from bot.conversation.engine import Engine, EngineOptions
    from bot.conversation.events import Channel, Inbound
    from bot.conversation.flow import default_flows_dir

    engine = Engine.from_dir(default_flows_dir(), EngineOptions(callback_available=False))
    return engine.handle(engine.new_session(0.0), Inbound.typed(Channel.TELEGRAM, "hello"), 0.0).replies[0]


def _settings(fake_url: str, tmp: str):
    from bot.config import load

    return load({
        "FRONTDOOR_ENV": "test",
        "FRONTDOOR_DATA_DIR": tmp,
        "FRONTDOOR_LOG_LEVEL": "WARNING",
        "FRONTDOOR_RATE_LIMIT_PER_MINUTE": "10000",
        "FRONTDOOR_TELEGRAM_TOKEN": TOKEN,
        "FRONTDOOR_TELEGRAM_API_URL": fake_url,
        "FRONTDOOR_TELEGRAM_WEBHOOK_URL": "https://bench.example/telegram/webhook",
        "FRONTDOOR_TELEGRAM_WEBHOOK_SECRET": SECRET,
    })


async def _bare_app(fake_url: str) -> web.Application:
    session: ClientSession | None = None
    url = f"{fake_url}/bot{TOKEN}/sendMessage"
    welcome = _welcome()
    markup = json.dumps({"inline_keyboard": [[{"text": o.label, "callback_data": o.id}] for o in welcome.options]})
    preview = json.dumps({"is_disabled": True})
    tasks: set[asyncio.Task] = set()

    async def send(chat_id: int) -> None:
        assert session is not None
        data = {"chat_id": str(chat_id), "text": welcome.text, "reply_markup": markup, "link_preview_options": preview}
        async with session.post(url, data=data) as resp:
            await resp.read()

    async def handler(request: web.Request) -> web.Response:
        if request.headers.get("X-Telegram-Bot-Api-Secret-Token") != SECRET:
            return web.Response(status=403)
        update = json.loads(await request.read())
        task = asyncio.create_task(send(update["message"]["chat"]["id"]))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return web.Response()

    async def client(_app):
        nonlocal session
        session = ClientSession(connector=TCPConnector(limit=128))
        yield
        await session.close()

    app = web.Application()
    app.router.add_post("/telegram/webhook", handler)
    app.cleanup_ctx.append(client)
    return app


async def _frontdoor_app(fake_url: str, kind: str, tmp: str) -> tuple[web.Application, object]:
    from telegram import Update
    from telegram.ext import TypeHandler

    import bot.channels.telegram as tg
    from bot.runtime import open_runtime
    from bot.web.app import create_app

    runtime = await open_runtime(_settings(fake_url, tmp))
    channel = tg.TelegramChannel(runtime.port(tg.CHANNEL), overall_max_rate=0)
    if kind == "ptb":
        reply = _welcome()

        async def direct(update: Update, _context) -> None:
            await channel.sender.reply(update.effective_chat.id, reply)

        channel.application.handlers.clear()
        channel.application.add_handler(TypeHandler(Update, direct))
    tg.setup = lambda app, port: tg.install(app, port, channel)  # our channel, with the pacing off
    return create_app(runtime), channel


def serve(kind: str, fake_url: str, port_file: str, tmp: str) -> None:
    profile_dir = os.environ.get("FRONTDOOR_BENCH_PROFILE")
    if profile_dir:  # --profile: cProfile this server and write its stats when the parent stops it
        import cProfile
        import signal

        profiler = cProfile.Profile()

        def dump(*_args) -> None:
            profiler.disable()
            profiler.dump_stats(f"{profile_dir}/{kind}.prof")
            os._exit(0)

        signal.signal(signal.SIGTERM, dump)
        profiler.enable()

    async def main() -> None:
        channel = None
        if kind == "bare":
            app = await _bare_app(fake_url)
        else:
            app, channel = await _frontdoor_app(fake_url, kind, tmp)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        while channel is not None and not channel.ready:
            await asyncio.sleep(0.01)
        Path(port_file).write_text(str(site._server.sockets[0].getsockname()[1]))
        await asyncio.Event().wait()

    asyncio.run(main())


# --- the load (this process) ----------------------------------------------------------------


def _update(n: int, per_chat: int = 1) -> bytes:
    chat = 770_000_000 + n // per_chat
    return json.dumps({
        "update_id": 10_000_000 + n,
        "message": {"message_id": 1, "date": 1_790_000_000, "chat": {"id": chat, "type": "private", "first_name": "Officer"},
                    "from": {"id": chat, "is_bot": False, "first_name": "Officer"}, "text": "hello"},
    }).encode()


async def measure(kind: str, fake: FakeBotAPI, updates: int, concurrency: int, offset: int, per_chat: int) -> tuple[float, float, float]:
    tmp = f"/tmp/frontdoor-bench-{os.getpid()}-{kind}-{offset}"
    os.makedirs(tmp, exist_ok=True)
    port_file = f"{tmp}/port"
    proc = subprocess.Popen([sys.executable, __file__, "--serve", kind, "--fake", fake.url, "--port-file", port_file, "--tmp", tmp])
    try:
        deadline = time.monotonic() + 60
        while not os.path.exists(port_file) or not Path(port_file).read_text():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{kind} server did not start")
            await asyncio.sleep(0.05)
        url = f"http://127.0.0.1:{Path(port_file).read_text()}/telegram/webhook"
        bodies = [_update(offset + i, per_chat) for i in range(updates)]
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
        async with ClientSession(connector=TCPConnector(limit=concurrency)) as http:
            async def warm() -> None:
                async with http.post(url, data=_update(offset + updates + 1), headers=headers) as r:
                    await r.read()

            await warm()
            await _until(lambda: fake.counts["sendMessage"] >= 1)
            fake.counts["sendMessage"] = 0
            queue = iter(bodies)

            async def worker() -> None:
                for body in queue:
                    async with http.post(url, data=body, headers=headers) as r:
                        await r.read()
                        if r.status != 200:
                            raise RuntimeError(f"{kind}: HTTP {r.status}")

            cpu0, own0 = _cpu(proc.pid), time.process_time()
            start = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            await _until(lambda: fake.counts["sendMessage"] >= updates)
            elapsed = time.perf_counter() - start
            cpu_us = (_cpu(proc.pid) - cpu0) / updates * 1e6
            load_us = (time.process_time() - own0) / updates * 1e6
            return updates / elapsed, cpu_us, load_us
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _until(condition, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError("timed out waiting for the fake Bot API")
        await asyncio.sleep(0.002)


async def run(updates: int, concurrency: int, rounds: int, per_chat: int) -> int:
    fake = FakeBotAPI()
    fake.record = False
    await fake.start()
    rates: dict[str, list[float]] = {k: [] for k in SERVERS}
    cpu: dict[str, list[float]] = {k: [] for k in SERVERS}
    load: dict[str, list[float]] = {k: [] for k in SERVERS}
    try:
        for r in range(rounds):
            for i, kind in enumerate(SERVERS):
                rate, cpu_us, load_us = await measure(kind, fake, updates, concurrency, (r * 10 + i) * (updates + 10) * per_chat, per_chat)
                rates[kind].append(rate)
                cpu[kind].append(cpu_us)
                load[kind].append(load_us)
    finally:
        await fake.stop()
    med = {k: statistics.median(v) for k, v in rates.items()}
    cpu_med = {k: statistics.median(v) for k, v in cpu.items()}
    print(f"{updates} updates per round ({per_chat} per chat), {rounds} rounds, {concurrency} in flight, {os.cpu_count()} CPUs; medians")
    print("  server     updates/s  ratio   server CPU/update  ratio   load+fake CPU/update   rounds (updates/s)")
    for kind in SERVERS:
        runs = ", ".join(f"{x:.0f}" for x in rates[kind])
        print(f"  {kind:8s} {med[kind]:9.0f}   {med[kind] / med['bare']:5.2f}   {cpu_med[kind]:11.0f} us     {cpu_med['bare'] / cpu_med[kind]:5.2f}   {statistics.median(load[kind]):11.0f} us          {runs}")
    ok = med["channel"] >= 0.5 * med["bare"]
    print(f"target (channel at least half the bare rate): {'met' if ok else 'NOT met'}")
    parse_us = _de_json_us()
    print(f"reading the update into PTB's objects (json.loads + Update.de_json): {parse_us:.0f} us, "
          f"{parse_us / cpu_med['bare']:.0%} of the bare server's whole CPU per update")
    return 0


def _de_json_us(n: int = 5000) -> float:
    """CPU per ``Update.de_json`` of the bench's update: the part no PTB bot can skip.

    Measured here, in the same run, so the floor it sets sits beside the figures above.
    """
    from telegram import Bot, Update

    bot = Bot(TOKEN)
    body = _update(1)
    for _ in range(200):
        Update.de_json(json.loads(body), bot)
    start = time.process_time()
    for _ in range(n):
        Update.de_json(json.loads(body), bot)
    return (time.process_time() - start) / n * 1e6


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--updates", type=int, default=3000)
    p.add_argument("--concurrency", type=int, default=64)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--per-chat", type=int, default=5, help="messages from each chat (a conversation is several)")
    p.add_argument("--profile", metavar="DIR", help="cProfile each server; writes DIR/<server>.prof (slows every server alike)")
    p.add_argument("--serve", choices=SERVERS, help=argparse.SUPPRESS)
    p.add_argument("--fake", help=argparse.SUPPRESS)
    p.add_argument("--port-file", help=argparse.SUPPRESS)
    p.add_argument("--tmp", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.profile:
        os.makedirs(args.profile, exist_ok=True)
        os.environ["FRONTDOOR_BENCH_PROFILE"] = os.path.abspath(args.profile)
    if args.serve:
        serve(args.serve, args.fake, args.port_file, args.tmp)
        return 0
    return asyncio.run(run(args.updates, args.concurrency, args.rounds, args.per_chat))


if __name__ == "__main__":
    sys.exit(main())
