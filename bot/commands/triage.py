"""``frontdoor triage``: run triage over messages, one per line on standard input.

Prints one line per message: ``urgent`` or ``routine``, then a tab and the
names of the rules that fired (``learned`` when it was the learned layer).
Never the message: the output can be pasted into a ticket about a missed
phrase without carrying anyone's words. ``--why`` adds the layer.

    printf 'I want to end it tonight\\nwhat is the number\\n' | frontdoor triage
    urgent	intent_to_die
    routine

``--eval FILE...`` reads labelled files and prints, per file, urgent recall and
false alarms for the rules alone and with the learned layer, then recall by
category and by language. A folder stands for every ``.tsv`` under it;
``--eval`` alone reads tests/triage_eval/, each file marked with the split its
writers are in (a ``train`` figure flatters; a ``test`` one does not).
``--train`` rebuilds the learned layer from the train and dev writers.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.conversation.flow import default_flows_dir
from bot.conversation.triage import Triage
from bot.conversation.triage_corpus import EVAL_DIR, Example, read_labelled, read_splits
from bot.conversation.triage_model import DEFAULT_PATH

EVAL_SETS = EVAL_DIR  # the sets --eval reads by default


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("triage", help="classify messages from standard input as urgent or routine (never prints them)")
    p.add_argument("--flows", type=Path, default=default_flows_dir(), help="flows folder holding triage.yaml")
    p.add_argument("--model", type=Path, default=DEFAULT_PATH, help="the learned layer's JSON (default: the shipped one)")
    p.add_argument("--rules-only", action="store_true", help="leave the learned layer out")
    p.add_argument("--why", action="store_true", help="also print which layer decided (rules or learned)")
    p.add_argument("--eval", type=Path, nargs="*", metavar="FILE", help="labelled .tsv files or folders: print recall and false alarms")
    p.add_argument("--train", action="store_true", help="rebuild the learned layer from tests/triage_eval (needs .[train])")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.train:
        return _train(args)
    triage = Triage.load(args.flows / "triage.yaml", None if args.rules_only else args.model)
    if triage.model is None and not args.rules_only:
        print(f"frontdoor triage: learned layer off, rules only ({triage.model_error})", file=sys.stderr)
    if args.eval is not None:
        return _evaluate(triage, _eval_files(args.eval or [EVAL_SETS]))
    for line in sys.stdin:
        verdict = triage.classify(line.rstrip("\n"))
        if not verdict.urgent:
            print("routine", flush=True)
        else:
            why = f"\t{verdict.layer}" if args.why else ""
            print("urgent\t" + ",".join(verdict.rules) + why, flush=True)
    return 0


def flags(triage: Triage, rows: list[Example], *, rules_only: bool = False) -> dict[int, bool]:
    """Each row's verdict, by ``id(row)``: triaged once, then counted in every way."""
    decide = triage.rules_only if rules_only else triage.classify
    return {id(ex): decide(ex.text).urgent for ex in rows}


def score(triage: Triage, rows: list[Example], *, rules_only: bool = False, flagged: dict[int, bool] | None = None) -> dict[str, float | int]:
    """Urgent recall, false alarms on routine and on distress messages, and counts."""
    if flagged is None:
        flagged = flags(triage, rows, rules_only=rules_only)

    def count(label: str) -> tuple[int, int]:
        of = [ex for ex in rows if ex.label == label]
        return sum(flagged[id(ex)] for ex in of), len(of)

    caught, urgent = count("urgent")
    fa_routine, routine = count("routine")
    fa_distress, distress = count("distress")
    return {
        "urgent": urgent,
        "caught": caught,
        "recall": caught / urgent if urgent else 1.0,
        "routine": routine,
        "false_alarms_routine": fa_routine,
        "false_alarm_rate_routine": fa_routine / routine if routine else 0.0,
        "distress": distress,
        "flagged_distress": fa_distress,
    }


def recall_by(rows: list[Example], flagged: dict[int, bool], key: str) -> dict[str, tuple[int, int]]:
    """Urgent messages caught / all, grouped by ``key`` (category or lang)."""
    out: dict[str, tuple[int, int]] = {}
    for ex in rows:
        if ex.label != "urgent":
            continue
        group = getattr(ex, key) or "-"
        caught, total = out.get(group, (0, 0))
        out[group] = (caught + flagged[id(ex)], total + 1)
    return dict(sorted(out.items()))


def _eval_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        files.extend(sorted(path.rglob("*.tsv")) if path.is_dir() else [path])
    return files


def _pct(n: int, d: int) -> str:
    return f"{n}/{d} ({n / d:.1%})" if d else "0/0"


def _evaluate(triage: Triage, files: list[Path]) -> int:
    if not files:
        print("frontdoor triage: no labelled .tsv files found", file=sys.stderr)
        return 2
    try:
        splits = read_splits()
    except Exception:  # an installed copy without tests/: splits unknown
        splits = {}
    for path in files:
        try:
            rows = read_labelled(path)
        except (OSError, UnicodeDecodeError) as exc:
            print(f"frontdoor triage: can't read {path}: {type(exc).__name__}", file=sys.stderr)
            return 2
        parts = sorted({splits.get(ex.writer, "unsplit") for ex in rows}) or ["empty"]
        flagged = flags(triage, rows)
        r = score(triage, rows, rules_only=True)
        s = score(triage, rows, flagged=flagged)
        print(
            f"{path.name} [{'/'.join(parts)}]: urgent recall {_pct(s['caught'], s['urgent'])} "
            f"(rules alone {_pct(r['caught'], r['urgent'])}); "
            f"false alarms on routine {_pct(s['false_alarms_routine'], s['routine'])} "
            f"(rules alone {r['false_alarms_routine']}); "
            f"distress flagged urgent {s['flagged_distress']}/{s['distress']}"
        )
        for key in ("category", "lang"):
            groups = recall_by(rows, flagged, key)
            if len(groups) > 1:
                print(f"  urgent recall by {key}: " + ", ".join(f"{g} {c}/{t}" for g, (c, t) in groups.items()))
    return 0


def _train(args: argparse.Namespace) -> int:
    from bot.conversation.triage_corpus import corpus
    from bot.conversation.triage_rules import Lexicon
    from bot.conversation.triage_training import TrainingUnavailable, fit, write

    lexicon = Lexicon.load(args.flows / "triage.yaml")
    train, dev = corpus("train"), corpus("dev")
    try:
        model = fit(train, dev, lambda t: lexicon.classify(t).urgent)
    except TrainingUnavailable as exc:
        print(f"frontdoor triage: {exc}", file=sys.stderr)
        return 2
    write(model, args.model)
    meta = model["meta"]
    print(f"wrote {args.model}: {meta['features']} features from {meta['train_messages']} messages; threshold {model['threshold']}")
    return 0
