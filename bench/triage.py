"""What triage costs: per message, per layer, and in the whole engine, in one run.

* per message: p50 and p99 of the rules alone and of the learned layer alone,
  over every labelled message in tests/triage_eval (their lengths are what
  people send: "2" to a paragraph);
* the engine's messages per second with both layers, with the rules alone, and
  the plain-dict baseline of bench/engine.py, measured in this same run;
* what loading the learned layer costs: start-up time and memory (the Python
  heap it adds, by tracemalloc, and the process's RSS before and after).

Pinned to one core where the OS allows, so the figures compare across runs.

    python bench/triage.py [--seconds 3]
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine import dict_rate, engine_rate  # noqa: E402  (bench/engine.py: the same script and baseline)

from bot.conversation.engine import Engine, EngineOptions  # noqa: E402
from bot.conversation.flow import default_flows_dir, load_flow  # noqa: E402
from bot.conversation.triage import Triage  # noqa: E402
from bot.conversation.triage_corpus import EVAL_DIR, read_labelled  # noqa: E402
from bot.conversation.triage_model import DEFAULT_PATH, LinearModel  # noqa: E402
from bot.conversation.triage_rules import Lexicon  # noqa: E402


def _rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def percentiles(fn, texts: list[str], rounds: int = 3) -> tuple[float, float]:
    samples = []
    for _ in range(rounds):
        for t in texts:
            start = time.perf_counter_ns()
            fn(t)
            samples.append(time.perf_counter_ns() - start)
    samples.sort()
    return samples[len(samples) // 2] / 1000, samples[int(len(samples) * 0.99)] / 1000


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    texts = [ex.text for path in sorted(EVAL_DIR.rglob("*.tsv")) for ex in read_labelled(path)]

    gc.collect()
    rss0 = _rss_kib()
    tracemalloc.start()
    start = time.perf_counter()
    model = LinearModel.load(DEFAULT_PATH)
    load_s = time.perf_counter() - start
    heap = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    rss1 = _rss_kib()
    start = time.perf_counter()
    lexicon = Lexicon.load(default_flows_dir() / "triage.yaml")
    lex_s = time.perf_counter() - start
    size = DEFAULT_PATH.stat().st_size
    print(f"learned layer: {len(model.weights):,} weights, file {size / 1024:.0f} KiB, loads in {load_s * 1000:.0f} ms, "
          f"heap +{heap / 1024 / 1024:.1f} MiB, RSS +{(rss1 - rss0) / 1024:.1f} MiB; rules load in {lex_s * 1000:.0f} ms")

    p50, p99 = percentiles(lexicon.classify, texts)
    print(f"rules per message ({len(texts):,} labelled messages x3): p50 {p50:.1f} us, p99 {p99:.1f} us")
    p50, p99 = percentiles(model.probability, texts)
    print(f"learned layer per message: p50 {p50:.1f} us, p99 {p99:.1f} us")
    both = Triage(lexicon, model)
    p50, p99 = percentiles(both.classify, texts)
    print(f"both layers (rules, then the model if no rule fired): p50 {p50:.1f} us, p99 {p99:.1f} us")

    flow = load_flow(default_flows_dir())
    full = Engine(flow, both, EngineOptions())
    rules_only = Engine(flow, Triage(lexicon, None), EngineOptions())
    rate_full, _ = engine_rate(full, args.seconds)
    rate_rules, _ = engine_rate(rules_only, args.seconds)
    rate_dict = dict_rate(full, args.seconds)
    print(f"engine, both layers: {rate_full:,.0f} msg/s; rules only: {rate_rules:,.0f} msg/s; "
          f"plain-dict baseline (same script): {rate_dict:,.0f} msg/s; both/baseline {rate_full / rate_dict:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
