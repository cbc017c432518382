"""``frontdoor serve``: run the aiohttp server with every channel that is configured."""

from __future__ import annotations

import argparse
import asyncio
import sys

from bot import CRISIS_LINE
from bot.config import ConfigError, load


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run the web server (webhooks, web chat, /healthz, /readyz, /metrics)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        settings = load()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    from bot.logs import configure_logging

    configure_logging(settings)
    return asyncio.run(_serve(settings))


def _command_name() -> str:
    """How the person started us (``.venv/bin/frontdoor`` under ``make run``), so the hint works as typed."""
    import os

    launched = sys.argv[0] if sys.argv and os.path.basename(sys.argv[0]) == "frontdoor" else "frontdoor"
    return os.path.relpath(launched) if os.path.sep in launched and not os.path.relpath(launched).startswith("..") else launched


async def _serve(settings) -> int:
    import signal

    from aiohttp import web

    from bot.runtime import open_runtime
    from bot.web.app import create_app
    from bot.web.lifecycle import graceful_stop, make_runner

    # The web chat's address is the first thing printed (before start-up warnings), so a
    # person running ``make run`` sees where to go at once.
    print(f"http://{settings.host}:{settings.port}/", flush=True)
    runtime = await open_runtime(settings)
    app = create_app(runtime)
    runner = make_runner(app)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    await site.start()
    url = f"http://{settings.host}:{settings.port}/"
    print(f"Frontdoor is running on {url} (web chat), with /healthz, /readyz and /metrics.", flush=True)
    print(f"Talk to the bot in another terminal with:  {_command_name()} chat", flush=True)
    print(f"Crisis line: {CRISIS_LINE}, any time. In danger now: 999.", flush=True)
    # SIGTERM (deploys, systemd, docker stop) and SIGINT (Ctrl-C) both start the graceful
    # shutdown in bot.web.lifecycle: no new work, messages in flight finish, exit within 10 s.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        # The handlers stay during the graceful stop: a second SIGTERM (an impatient
        # supervisor) must not kill the process halfway through finishing replies.
        await graceful_stop(runner)
        # We are exiting already: block further signals before the handlers go, so a late
        # SIGTERM stays pending and dies with the process instead of turning the exit into a kill.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
    return 0
