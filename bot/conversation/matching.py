"""Matching what someone typed to a global word or an option, forgivingly.

People in distress type fast, on small screens, with typos. Matching ignores
case, punctuation, apostrophes ("dont" is "don't") and accents (a Welsh "yn ol"
typed without its circumflex is "yn ôl"), accepts an option's
number or the words of its label, and forgives one slip (a missing, extra,
swapped or wrong letter) in words of five letters or more. Shorter words are
listed with their common misspellings in flows/ instead, because one slip in
"bye" or "call" makes another word.

Everything is precomputed when the flow loads: a lookup is a dict access.
"""

from __future__ import annotations

import re
import string
import unicodedata
from typing import Iterable, Mapping, Sequence

from bot.conversation.flow import FlowOption

_STRIP = re.compile(r"[^\w\s?+]", re.UNICODE)
_SPACES = re.compile(r"\s+")
_FUZZ_MIN = 5


def normalise(text: str) -> str:
    """Lower case, apostrophes and accents dropped, punctuation to spaces, spaces collapsed."""
    low = text.lower().replace("'", "").replace("\u2019", "")
    if not low.isascii():
        low = "".join(c for c in unicodedata.normalize("NFKD", low) if not unicodedata.combining(c))
    return _SPACES.sub(" ", _STRIP.sub(" ", low)).strip()


def _one_slip(word: str) -> set[str]:
    """Every string one edit away from ``word`` (a deletion, insertion, swap or substitution)."""
    letters = string.ascii_lowercase
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    out = {a + b[1:] for a, b in splits if b}
    out |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    out |= {a + c + b[1:] for a, b in splits if b for c in letters}
    out |= {a + c + b for a, b in splits for c in letters}
    out.discard(word)
    return out


class WordMatcher:
    """Whole-message lookup of global words (number, menu, end ...)."""

    def __init__(self, words_by_name: Mapping[str, Sequence[str]]) -> None:
        exact: dict[str, str] = {}
        for name, words in words_by_name.items():
            for w in words:
                exact[normalise(w)] = name
        fuzzy: dict[str, str | None] = {}
        for phrase, name in exact.items():
            if len(phrase) >= _FUZZ_MIN and " " not in phrase:
                for variant in _one_slip(phrase):
                    if variant in exact:
                        continue
                    # A variant two intents share is ambiguous: it matches neither.
                    fuzzy[variant] = name if fuzzy.get(variant, name) == name else None
        self._exact = exact
        self._fuzzy = {k: v for k, v in fuzzy.items() if v}

    def match(self, normalised: str) -> str | None:
        return self._exact.get(normalised) or self._fuzzy.get(normalised)


class OptionMatcher:
    """Which of a state's options a typed message means: by number, label or listed words."""

    def __init__(self, options: Iterable[FlowOption]) -> None:
        self._by_phrase: dict[tuple[str, str], str] = {}
        for option in options:
            for lang, label in option.label.by_lang.items():
                self._by_phrase[(lang, normalise(label))] = option.id
            for lang, words in option.words.items():
                for w in words:
                    self._by_phrase.setdefault((lang, normalise(w)), option.id)
        # For "call back" inside "ask for a call back": each phrase padded once, here.
        self._padded = tuple((lang, f" {phrase} ", oid) for (lang, phrase), oid in self._by_phrase.items())

    def match(self, normalised: str, shown: Sequence[FlowOption], lang: str) -> FlowOption | None:
        if not normalised:
            return None
        if normalised.isdigit():
            index = int(normalised) - 1
            return shown[index] if 0 <= index < len(shown) else None
        option_id = self._by_phrase.get((lang, normalised)) or self._by_phrase.get(("en", normalised))
        if option_id is None and len(normalised) >= 4:
            # "call back" inside "ask for a call back": only if exactly one label holds it.
            needle = f" {normalised} "
            hits = {oid for lg, padded, oid in self._padded if needle in padded and lg in (lang, "en")}
            option_id = hits.pop() if len(hits) == 1 else None
        if option_id is None:
            return None
        return next((o for o in shown if o.id == option_id), None)
