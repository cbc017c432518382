"""Messages per second through the engine (triage included) and bytes per idle session.

Each figure is printed beside a baseline measured in the same run on the same
machine, so the ratio means something wherever it runs:

* throughput baseline: a plain dict lookup doing the same state transitions
  for the same scripted conversations (no triage, no rendering);
* memory baseline: a plain dict holding the same fields as a session.

Targets (issue 2): at least 20,000 messages a second on one core, and an idle
session under 2 KiB.

    python bench/engine.py [--seconds 3]
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.conversation.engine import Engine, EngineOptions  # noqa: E402
from bot.conversation.events import Channel, Inbound  # noqa: E402
from bot.conversation.flow import default_flows_dir  # noqa: E402

SCRIPT = ["hi", "3", "2", "back", "menu", "1", "number", "menu", "2", "07700 900123", "1", "1", "1", "menu",
          "I'm feeling really low after a bad shift", "4", "1", "menu", "5", "menu", "end"]


def engine_rate(engine: Engine, seconds: float) -> tuple[float, int]:
    inbound = [Inbound.typed(Channel.SMS, t, sender_phone="+447700900111") for t in SCRIPT]
    n, start, now = 0, time.perf_counter(), 0.0
    deadline = start + seconds
    while time.perf_counter() < deadline:
        session = engine.new_session(now)
        for msg in inbound:
            now += 1
            out = engine.handle(session, msg, now)
            if out.pending is not None:
                engine.resolve(session, "ok", now, request_id="x")
            n += 1
    return n / (time.perf_counter() - start), n


def dict_rate(engine: Engine, seconds: float) -> float:
    """The same moves as a table lookup: what the conversation costs with no library and no safety."""
    table = {sid: {o.id: o.to for o in s.options} for sid, s in engine.flow.states.items()}
    walk = []
    for sid, s in engine.flow.states.items():
        for o in s.options:
            walk.append((sid, o.id))
    n, start = 0, time.perf_counter()
    deadline = start + seconds
    state = "menu"
    while time.perf_counter() < deadline:
        for sid, oid in walk[: len(SCRIPT)]:
            state = table[sid].get(oid, state)
            n += 1
    return n / (time.perf_counter() - start)


def bytes_per_session(engine: Engine, count: int = 20000) -> tuple[float, float]:
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    sessions = []
    for i in range(count):
        s = engine.new_session(float(i))
        engine.handle(s, Inbound.typed(Channel.SMS, "hi"), float(i))
        sessions.append(s)
    used = tracemalloc.get_traced_memory()[0] - base
    sessions.clear()
    gc.collect()
    base = tracemalloc.get_traced_memory()[0]
    dicts = [{"state": "welcome", "started_at": float(i), "last_seen": float(i), "lang": "en", "slots": {}} for i in range(count)]
    used_dict = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    del dicts
    return used / count, used_dict / count


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    engine = Engine.from_dir(default_flows_dir(), EngineOptions(allow_fictional_numbers=True))
    engine_rate(engine, 0.5)  # warm the reply cache
    rate, n = engine_rate(engine, args.seconds)
    base = dict_rate(engine, args.seconds)
    per_session, per_dict = bytes_per_session(engine)
    print(f"engine: {rate:,.0f} messages/s on one core, triage included ({n:,} messages)   target >= 20,000")
    print(f"plain-dict state lookup, same run: {base:,.0f} moves/s   ratio engine/dict = {rate / base:.3f}")
    print(f"idle session: {per_session:,.0f} bytes   plain dict of the same fields: {per_dict:,.0f} bytes   target < 2,048")
    return 0


if __name__ == "__main__":
    sys.exit(main())
