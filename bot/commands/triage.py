"""``frontdoor triage``: run the triage lexicon over messages, one per line on standard input.

Prints one line per message: ``urgent`` or ``routine``, then a tab and the
names of the rules that fired. Never the message: the output can be pasted
into a ticket about a missed phrase without carrying anyone's words.

    printf 'I want to end it tonight\\nwhat is the number\\n' | frontdoor triage
    urgent	intent_to_die
    routine

With ``--eval FILE`` it reads ``label<TAB>message`` lines and prints urgent
recall and the false-alarm rate instead. A folder stands for its ``.tsv``
files; ``--eval`` alone reads the project's own sets in tests/triage_eval/.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.conversation.flow import default_flows_dir
from bot.conversation.triage import Triage

EVAL_SETS = Path(__file__).resolve().parents[2] / "tests" / "triage_eval"  # the sets --eval reads by default


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("triage", help="classify messages from standard input as urgent or routine (never prints them)")
    p.add_argument("--flows", type=Path, default=default_flows_dir(), help="flows folder holding triage.yaml")
    p.add_argument("--eval", type=Path, nargs="*", metavar="FILE", help="labelled files (label<TAB>message): print recall and false alarms")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    triage = Triage.load(args.flows / "triage.yaml")
    if args.eval is not None:
        return _evaluate(triage, _eval_files(args.eval or [EVAL_SETS]))
    for line in sys.stdin:
        verdict = triage.classify(line.rstrip("\n"))
        print("urgent\t" + ",".join(verdict.rules) if verdict.urgent else "routine", flush=True)
    return 0


def read_labelled(path: Path) -> list[tuple[str, str]]:
    """``label<TAB>message`` lines; blank lines and ``#`` comments skipped."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        label, _, text = line.partition("\t")
        rows.append((label.strip(), text))
    return rows


def score(triage: Triage, rows: list[tuple[str, str]]) -> dict[str, float | int]:
    """Urgent recall, false alarms on routine and on distress messages, and counts."""
    urgent = [t for label, t in rows if label == "urgent"]
    routine = [t for label, t in rows if label == "routine"]
    distress = [t for label, t in rows if label == "distress"]
    caught = sum(triage.classify(t).urgent for t in urgent)
    fa_routine = sum(triage.classify(t).urgent for t in routine)
    fa_distress = sum(triage.classify(t).urgent for t in distress)
    return {
        "urgent": len(urgent),
        "caught": caught,
        "recall": caught / len(urgent) if urgent else 1.0,
        "routine": len(routine),
        "false_alarms_routine": fa_routine,
        "false_alarm_rate_routine": fa_routine / len(routine) if routine else 0.0,
        "distress": len(distress),
        "flagged_distress": fa_distress,
    }


def _eval_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        files.extend(sorted(path.glob("*.tsv")) if path.is_dir() else [path])
    return files


def _evaluate(triage: Triage, files: list[Path]) -> int:
    if not files:
        print("frontdoor triage: no labelled .tsv files found", file=sys.stderr)
        return 2
    for path in files:
        try:
            rows = read_labelled(path)
        except (OSError, UnicodeDecodeError) as exc:
            print(f"frontdoor triage: can't read {path}: {type(exc).__name__}", file=sys.stderr)
            return 2
        s = score(triage, rows)
        print(
            f"{path.name}: urgent recall {s['caught']}/{s['urgent']} ({s['recall']:.1%}); "
            f"false alarms on routine {s['false_alarms_routine']}/{s['routine']} ({s['false_alarm_rate_routine']:.1%}); "
            f"distress flagged urgent {s['flagged_distress']}/{s['distress']}"
        )
    return 0
