"""The learned layer of triage: a linear model for the danger no word list reaches.

The lexicon (``triage_rules``) catches what people say outright. People in
danger often don't: "the dog's going to my sister's, she'll look after him",
"sorted my pension nominee tonight, they'll be fine". Those messages share no
key word, but they share a texture that a model trained on thousands of
labelled messages can score. This is that model, and deliberately a small one:

* **Plain data.** A logistic regression over word unigrams and bigrams and
  character 3- to 5-grams, shipped as JSON (feature -> weight, a bias and a
  threshold). No pickle, nothing fetched at run time, nothing to install:
  inference is a few hundred dictionary look-ups, tens of microseconds, so it
  runs inline in the sans-I/O engine on every message the rules did not flag.
* **Recall first.** The threshold is chosen at training time on held-apart
  writers so that urgent messages are caught even at the cost of a few false
  alarms on routine ones (the false alarm costs one kind paragraph).
* **It orders the replies, nothing else.** A verdict picks the emergency reply
  first; it is never stored, shown, or turned into a score about a person.

``bot.conversation.triage_training`` builds the JSON from the labelled corpus
(``frontdoor triage --train``); both use :func:`features`, so what is trained
is exactly what runs.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

FORMAT = "frontdoor-triage-linear/1"
DEFAULT_PATH = Path(__file__).with_name("triage_model.json")

_APOSTROPHES = str.maketrans("", "", "'\u2019`\u00b4")
_NOT_WORD = re.compile(r"[^\w]+")
_CHAR_NS = (3, 4, 5)


class ModelError(ValueError):
    """The model file is missing, unreadable or not in the format this code reads."""


def normalise(text: str) -> str:
    """Lower case, accents folded, apostrophes dropped, each emoji a word of its own, other
    punctuation a space. Letters of every script are kept (Polish, Arabic, Cyrillic...)."""
    low = text.lower().translate(_APOSTROPHES)
    if low.isascii():
        return " ".join(_NOT_WORD.sub(" ", low).split())
    out = []
    for c in unicodedata.normalize("NFKD", low):
        if unicodedata.combining(c):
            continue
        if c.isalnum():
            out.append(c)
        elif unicodedata.category(c) == "So":  # emoji carry meaning ("🪦", "💊🍷")
            out.append(f" {c} ")
        else:
            out.append(" ")
    return " ".join("".join(out).split())


def features(text: str) -> set[str]:
    """The features a message has: words, word pairs and character n-grams, each once."""
    t = normalise(text)
    if not t:
        return set()
    words = t.split(" ")
    out = {"w:" + w for w in words}
    out.update("b:" + a + " " + b for a, b in zip(words, words[1:]))
    padded = f" {t} "
    for n in _CHAR_NS:
        out.update("c:" + padded[i : i + n] for i in range(len(padded) - n + 1))
    return out


@dataclass(frozen=True, slots=True)
class LinearModel:
    """Weights over :func:`features`; a message's value for each present feature is 1/sqrt(count)."""

    weights: dict[str, float]
    bias: float
    threshold: float  # on the probability
    meta: dict

    @classmethod
    def load(cls, path: Path = DEFAULT_PATH) -> "LinearModel":
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelError(f"{path}: {type(exc).__name__}: {exc}") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ModelError(f"{path}: not a {FORMAT} file")
        try:
            weights = {str(k): float(v) for k, v in data["weights"].items()}
            return cls(weights, float(data["bias"]), float(data["threshold"]), dict(data.get("meta") or {}))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ModelError(f"{path}: {type(exc).__name__}: {exc}") from None

    def probability(self, text: str) -> float:
        feats = features(text)
        if not feats:
            return 0.0
        get = self.weights.get
        z = self.bias + sum(get(f, 0.0) for f in feats) / math.sqrt(len(feats))
        if z < -30:
            return 0.0
        return 1.0 / (1.0 + math.exp(-z))

    def urgent(self, text: str) -> bool:
        return self.probability(text) >= self.threshold
