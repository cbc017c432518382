"""Labelled messages that measure triage, and the split that keeps the measure honest.

A message belongs to the writer who wrote it, and writers are split, not
messages: a model trained on one writer's lines and tested on more of the same
writer's lines learns that writer's habits and flatters itself. So every
writer is ``train``, ``dev`` (choosing the threshold) or ``test`` (scored once,
reported, never tuned on) in ``tests/triage_eval/splits.yaml``.

Three file shapes are read, so the corpora can stay as their writers made them:

* a header ``label<TAB>lang<TAB>writer[<TAB>category]<TAB>text`` (the
  independent writers' batches);
* plain ``label<TAB>text`` lines with ``#`` comments (the first sets, which
  were written by the lexicon's own authors and so are never test data).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

LABELS = ("urgent", "distress", "routine")
EVAL_DIR = Path(__file__).resolve().parents[2] / "tests" / "triage_eval"


@dataclass(frozen=True, slots=True)
class Example:
    label: str
    text: str
    lang: str = "en"
    writer: str = ""
    category: str = ""


def read_labelled(path: Path) -> list[Example]:
    """Every labelled message in ``path``, in order. Raises OSError or UnicodeDecodeError."""
    lines = [line for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip() and not line.startswith("#")]
    if lines and lines[0].startswith("label\t"):
        header = lines[0].split("\t")
        out = []
        for row in csv.reader(lines[1:], delimiter="\t", quoting=csv.QUOTE_NONE):
            rec = dict(zip(header, row))
            if len(row) < len(header) or rec.get("label", "").strip() not in LABELS:
                continue
            out.append(
                Example(rec["label"].strip(), rec["text"], rec.get("lang", "en").strip() or "en", rec.get("writer", "").strip(), rec.get("category", "").strip())
            )
        return out
    default_lang = "cy" if Path(path).stem == "cy" else "en"
    out = []
    for line in lines:
        label, _, text = line.partition("\t")
        out.append(Example(label.strip(), text, default_lang, Path(path).stem))
    return out


def read_splits(path: Path | None = None) -> dict[str, str]:
    """``writer -> train|dev|test`` from splits.yaml."""
    from bot.conversation.flow import read_yaml

    data = read_yaml(Path(path or EVAL_DIR / "splits.yaml")) or {}
    return {str(w): str(part) for part, writers in data.items() for w in writers or ()}


def corpus(split: str, root: Path | None = None) -> list[Example]:
    """Every example whose writer is in ``split`` (train, dev or test), from every .tsv under ``root``."""
    root = Path(root or EVAL_DIR)
    parts = read_splits(root / "splits.yaml")
    out = []
    for path in sorted(root.rglob("*.tsv")):
        for ex in read_labelled(path):
            if parts.get(ex.writer) == split:
                out.append(ex)
    return out


def by(examples: Iterable[Example], key: str) -> dict[str, list[Example]]:
    groups: dict[str, list[Example]] = {}
    for ex in examples:
        groups.setdefault(getattr(ex, key), []).append(ex)
    return groups
