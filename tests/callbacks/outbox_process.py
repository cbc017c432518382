"""A callback service in a process of its own, for tests that kill it, restart it or run two.

Configured like the bot, from FRONTDOOR_* variables (data folder or shared
outbox URL, key, webhook sink), with fast backoff. It submits ``--submit N``
requests, printing ``SUBMITTED <id>`` once each is durable, prints ``READY``,
then delivers until SIGTERM (graceful stop, ``STOPPED``) or SIGKILL.

    python -m tests.callbacks.outbox_process --submit 1
"""

from __future__ import annotations

import argparse
import logging
import asyncio
import signal
import sys

from bot.callbacks.service import open_callback_service
from bot.config import load
from bot.conversation.events import CallbackDetails


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--submit", type=int, default=0)
    parser.add_argument("--lease", type=float, default=3.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)

    svc = await open_callback_service(
        load(), backoff_base=0.05, backoff_cap=0.3, lease=args.lease, attempt_timeout=1.0, poll_interval=0.1, stop_timeout=2.0,
    )
    await svc.start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    for i in range(args.submit):
        phone = f"+447700900{i % 1000:03d}"
        rid = await svc.submit(CallbackDetails(phone, "as soon as possible", True, False, "sms"))
        say(f"SUBMITTED {rid}")
    say("READY")
    await stop.wait()
    await svc.stop()
    say(f"STOPPED delivered={svc.dispatcher.delivered}")


if __name__ == "__main__":
    asyncio.run(main())
