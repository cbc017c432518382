"""The rules layer of triage: the explicit signals, in words the content owners can edit.

:class:`bot.conversation.triage.Triage` asks the lexicon first about every
typed message; the learned layer (``triage_model``) is asked only when no rule
fired. Everything the rules decide lives in ``flows/triage.yaml`` so that the people who
own the wording can add a phrase without a developer. The reading is in three
steps, each there for a reason:

* **Normalising** (lower case, accents folded, apostrophes dropped, then a
  table of common misspellings and slang, and one-slip fuzz for long key
  words): people in crisis type fast, on a phone, in the dark.
* **Patterns** over whole words, grouped into named rules (intent, self-harm,
  means at hand, taken something, a dangerous place, someone else in danger,
  Welsh). The rule names are what ``frontdoor triage`` prints, never the text.
* **Guards** against the commonest false alarms: a negation just before the
  match ("I'm not suicidal"), and a sentence about the past with nothing
  about now ("I tried years ago, I'm OK now"). A missed urgent message is far
  worse than a false alarm, so the guards are narrow and a rule can opt out.

The lexicon is the layer that can be read and argued with: a phrase the
content owners add works at once, without retraining. It runs in
microseconds. ``tests/triage_eval/`` holds the labelled messages that measure
it, alone and with the learned layer.
"""

from __future__ import annotations

import re
import re._constants as _sre
import re._parser as _sre_parse
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

import ahocorasick

from bot.conversation.matching import _one_slip

_NON_WORD = re.compile(r"[^a-z0-9]+")
_SENTENCE = re.compile(r"[.!?;\n\r]+")
_MACRO = re.compile(r"\{(\w+)\}")
_NEGATION_WINDOW = 3  # words before a match that may cancel it
_PAST_WINDOW = 6  # words either side of a match where "years ago" or "used to" puts it in the past
_CLAUSE_BREAKS = frozenset({"and", "but", "so", "then", "though", "although", "because", "cos", "yet", "whereas"})
_FUZZ_MIN = 5


@dataclass(frozen=True, slots=True)
class Verdict:
    """What triage decided. ``rules`` names the rules that fired (``learned`` when it was the
    learned layer), for tests and ``frontdoor triage --why``; never the text."""

    urgent: bool
    rules: tuple[str, ...] = ()

    @property
    def layer(self) -> str:
        if not self.urgent:
            return ""
        return "learned" if self.rules == (LEARNED,) else "rules"


LEARNED = "learned"  # the rule name a learned-layer verdict carries


ROUTINE = Verdict(False)


@dataclass(frozen=True, slots=True)
class _Rule:
    name: str
    pattern: re.Pattern[str]
    guarded: bool
    unless: tuple[str, ...]  # words that mean this rule's match is about work, not danger
    needs: frozenset[str] | None  # any match contains one of these; None: always try


class TriageError(ValueError):
    """The lexicon in flows/triage.yaml cannot be used (a bad pattern, an unknown {name})."""


_UNDECOMPOSED = str.maketrans({"ł": "l", "ø": "o", "ß": "ss", "đ": "d", "ı": "i", "æ": "ae", "œ": "oe"})


def fold(text: str) -> str:
    """Lower case, accents folded (â to a, ł to l), apostrophes dropped, everything else not a letter or digit a space."""
    low = text.lower()
    if not low.isascii():
        low = "".join(c for c in unicodedata.normalize("NFKD", low.translate(_UNDECOMPOSED)) if not unicodedata.combining(c))
    low = low.replace("'", "").replace("\u2019", "").replace("`", "")
    return _NON_WORD.sub(" ", low).strip()


class Lexicon:
    """The compiled lexicon. Build once per process with :meth:`load`; ``classify`` is pure."""

    def __init__(self, lexicon: Mapping[str, Any], *, prefilter: bool = True) -> None:
        self._prefilter = prefilter  # off only in tests: the gate must never change a verdict
        words = {str(k): str(v) for k, v in (lexicon.get("words") or {}).items()}
        spell: dict[str, str] = {}
        for canonical, variants in (lexicon.get("spellings") or {}).items():
            for v in variants or ():
                spell[fold(str(v))] = fold(str(canonical))
        keep = {fold(str(w)) for w in lexicon.get("not_typos") or ()}
        for word in lexicon.get("fuzzy") or ():
            word = fold(str(word))
            if len(word) < _FUZZ_MIN:
                continue
            for variant in _one_slip(word):
                if variant not in keep and variant not in spell:
                    spell.setdefault(variant, word)
        for canonical in list(spell.values()):
            spell.pop(canonical, None)  # a real canonical word is never rewritten
        self._spell = spell
        emoji = {str(k).replace("\ufe0f", ""): f" {fold(str(v))} " for k, v in (lexicon.get("emoji") or {}).items()}
        self._emoji = emoji
        self._emoji_re = re.compile("|".join(re.escape(k) for k in sorted(emoji, key=len, reverse=True))) if emoji else None
        phrases = {fold(str(k)): fold(str(v)) for k, v in (lexicon.get("phrases") or {}).items()}
        self._phrases = phrases
        self._phrase_starts = frozenset(p.split(" ", 1)[0] for p in phrases)
        self._phrase_re = (
            re.compile(r"(?<!\S)(?:" + "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True)) + r")(?!\S)")
            if phrases
            else None
        )
        self._rules: list[_Rule] = []
        for rule in lexicon.get("rules") or ():
            name = str(rule["name"])
            guarded = str(rule.get("guards", "yes")).lower() != "none"
            unless = _phrase_set(rule.get("unless"))
            for raw in rule.get("patterns") or ():
                body = _MACRO.sub(lambda m: _expand(m.group(1), words, name), str(raw))
                try:
                    compiled = re.compile(r"(?<!\S)(?:" + body + r")(?!\S)")
                except re.error as exc:
                    raise TriageError(f"rule {name}: pattern {raw!r}: {exc}") from None
                needs = _needs(_sre_parse.parse(body))
                self._rules.append(_Rule(name, compiled, guarded, unless, frozenset(needs) if needs else None))
        if not self._rules:
            raise TriageError("no rules: every message would be routine")
        # The gate: one Aho-Corasick pass finds every fragment some pattern needs,
        # and only the patterns whose fragments are there are tried. Most messages
        # ("1", "menu", a phone number, "I can't sleep") try none or one.
        self._always = tuple(i for i, r in enumerate(self._rules) if r.needs is None)
        gate = ahocorasick.Automaton()
        for i, rule in enumerate(self._rules):
            for fragment in rule.needs or ():
                if fragment not in gate:
                    gate.add_word(fragment, set())
                gate.get(fragment).add(i)
        gate.make_automaton()
        self._gate = gate
        guards = lexicon.get("guards") or {}
        self._negation = frozenset(fold(str(w)) for w in guards.get("negation") or ())
        self._past = _phrase_set(guards.get("past"))
        self._present = _phrase_set(guards.get("present"))

    @classmethod
    def load(cls, path: Path, *, prefilter: bool = True) -> "Lexicon":
        """Read the lexicon from ``path`` (flows/triage.yaml). Raises TriageError or FlowError."""
        from bot.conversation.flow import read_yaml

        data = read_yaml(Path(path))
        if not isinstance(data, Mapping):
            raise TriageError(f"{path}: expected a mapping with spellings, phrases, words, rules and guards")
        return cls(data, prefilter=prefilter)

    # --- reading --------------------------------------------------------------------

    def sentences(self, text: str) -> list[str]:
        """The message as normalised sentences: what the patterns see."""
        out = []
        if self._emoji_re is not None and not text.isascii():
            text = self._emoji_re.sub(lambda m: self._emoji[m.group(0)], text.replace("\ufe0f", ""))
        for part in _SENTENCE.split(text):
            folded = fold(part)
            if not folded:
                continue
            spell = self._spell
            tokens = [spell.get(t, t) for t in folded.split(" ")]
            sentence = " ".join(tokens)
            if self._phrase_re is not None and not self._phrase_starts.isdisjoint(tokens):
                sentence = self._phrase_re.sub(lambda m: self._phrases[m.group(0)], sentence)
            out.append(sentence)
        return out

    def classify(self, text: str) -> Verdict:
        """Urgent if any rule matches in any sentence and no guard cancels it."""
        if not text or not text.strip():
            return ROUTINE
        fired: list[str] = []
        for sentence in self.sentences(text):
            if self._prefilter:
                candidates = set(self._always)
                for _, indices in self._gate.iter(sentence):
                    candidates |= indices
            else:
                candidates = set(range(len(self._rules)))
            if not candidates:
                continue
            for index in sorted(candidates):
                rule = self._rules[index]
                if rule.name in fired:
                    continue
                if rule.unless and any(w in f" {sentence} " for w in rule.unless):
                    continue
                for match in rule.pattern.finditer(sentence):
                    if rule.guarded:
                        if self._negated(sentence, match.start()):
                            continue
                        if self._about_past(sentence, match.start(), match.end()):
                            continue
                    fired.append(rule.name)
                    break
        return Verdict(True, tuple(fired)) if fired else ROUTINE

    def _negated(self, sentence: str, start: int) -> bool:
        before = sentence[:start].split()[-_NEGATION_WINDOW:]
        return any(w in self._negation for w in before)

    def _about_past(self, sentence: str, start: int, end: int) -> bool:
        """A past phrase near this match (a few words either side) and nothing about now in the
        sentence. Scoped to the match, so "years ago" never cancels a second, present signal
        further along: "I tried years ago and I've got the rope now"."""
        padded = f" {sentence} "
        if any(p in padded for p in self._present):
            return False
        inside = sentence[start:end].split()
        starts_clause = bool(inside) and inside[0] in _CLAUSE_BREAKS  # "and took the lot": a new clause
        before = [] if starts_clause else _clause(reversed(sentence[:start].split()))[::-1]
        after = _clause(sentence[end:].split())
        near = " " + " ".join(before + inside + after) + " "
        return any(p in near for p in self._past)


def _clause(words: Iterable[str]) -> list[str]:
    """Up to the window's length of words, stopping at a word that starts a new clause."""
    out: list[str] = []
    for w in words:
        if w in _CLAUSE_BREAKS or len(out) == _PAST_WINDOW:
            break
        out.append(w)
    return out


def _needs(items: Any) -> set[str] | None:
    """Fragments one of which every match of a parsed pattern must contain, or None if unknown.

    A sound prefilter in the spirit of RE2's: literal runs in a sequence, the
    union over a branch's alternatives, a repeat only if it must occur. Of a
    sequence's candidates the one with the longest shortest fragment wins,
    because longer fragments are rarer.
    """
    candidates: list[set[str]] = []
    run = ""
    for op, arg in items:
        if op is _sre.LITERAL:
            run += chr(arg)
            continue
        if run.strip():
            candidates.append({run})
        run = ""
        need: set[str] | None
        if op is _sre.SUBPATTERN:
            need = _needs(arg[3])
        elif op is _sre.BRANCH:
            branches = [_needs(b) for b in arg[1]]
            need = None if any(b is None for b in branches) else set().union(*branches)  # type: ignore[arg-type]
        elif op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT):
            need = _needs(arg[2]) if arg[0] >= 1 else None
        else:
            need = None
        if need:
            candidates.append(need)
    if run.strip():
        candidates.append({run})
    if not candidates:
        return None
    return max(candidates, key=lambda c: (min(len(f.strip()) for f in c), -len(c)))


def _expand(name: str, words: Mapping[str, str], rule: str) -> str:
    if name not in words:
        raise TriageError(f"rule {rule}: {{{name}}} is not listed under words")
    return "(?:" + words[name] + ")"


def _phrase_set(items: Iterable[Any] | None) -> tuple[str, ...]:
    return tuple(f" {fold(str(p))} " for p in items or ())
