"""``frontdoor chat``: talk to the bot in a terminal, through the same gateway as every channel.

Numbered options and the SMS texts, as on a basic phone. With piped input it
prints each reply and exits at the end of input, so it can be scripted:

    printf 'hi\\n1\\nend\\n' | frontdoor chat
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from bot import CRISIS_LINE
from bot.config import ConfigError, load
from bot.conversation.events import Channel, Inbound

SESSION_ID = "terminal"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("chat", help="talk to the bot in this terminal (type END to finish)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    env = dict(os.environ)
    env.setdefault("FRONTDOOR_ENV", "development")
    try:
        settings = load(env)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    from bot.logs import configure_logging

    configure_logging(settings)
    return asyncio.run(_chat(settings))


async def _chat(settings) -> int:
    from bot.runtime import open_runtime

    runtime = await open_runtime(settings)
    await runtime.start()
    interactive = sys.stdin.isatty()
    key = runtime.key(Channel.TERMINAL.value, SESSION_ID)
    try:
        if interactive:
            print(f"Frontdoor terminal chat. Crisis line: {CRISIS_LINE}, any time. In danger now: 999.")
            print("Type a message and press Enter. END finishes. Ctrl-D leaves.\n")
        loop = asyncio.get_running_loop()
        while True:
            if interactive:
                print("> ", end="", flush=True)
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                break
            delivery = await runtime.gateway.handle(Channel.TERMINAL, key, Inbound.typed(Channel.TERMINAL, line.rstrip("\n")))
            for reply in delivery.replies:
                print(reply.text)
                print()
            if delivery.ended and interactive:
                print("(This conversation has ended and was cleared. Type anything to start again.)\n")
    finally:
        await runtime.gateway.end(key, "user")
        await runtime.close()
    return 0
