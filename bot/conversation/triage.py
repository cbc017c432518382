"""Triage: does a message signal immediate danger? Read before anything else.

The engine asks :meth:`Triage.classify` about every typed message before the
state machine sees it. An urgent verdict gets the emergency reply (999 and the
crisis line first, and that the bot cannot send help itself); the person then
goes back to where they were. The verdict is never stored, logged with the
text, or passed on: it is the same reply for everyone, and it scores nobody.

Two layers, because people in danger say it in two ways:

1. **Rules** (``triage_rules``, the lexicon in ``flows/triage.yaml``) for what
   is said outright, in any spelling: "kms", "took the lot with vodka", "he's
   kicking the door in". Readable, editable without a developer, instant.
2. **A learned layer** (``triage_model``, a linear model shipped as plain
   data) for what is said without a key word: affairs put in order, a dog
   given away, a goodbye dressed as thanks. It is asked only when no rule
   fired, and tuned so that it would rather raise a false alarm than miss.

If the model file cannot be read the bot still triages, on the rules alone,
and says so once in the log (``triage_model_unavailable``): a degraded layer
must never stop the number going out.

The balance is set for recall: a false alarm costs a person one kind extra
paragraph; a miss costs the emergency reply at the moment it matters.
"""

from __future__ import annotations

from pathlib import Path

from bot.conversation.triage_model import DEFAULT_PATH, LinearModel, ModelError
from bot.conversation.triage_rules import LEARNED, ROUTINE, Lexicon, TriageError, Verdict, fold  # noqa: F401 - re-exported


_BY_MODEL = Verdict(True, (LEARNED,))


class Triage:
    """Rules first, then the learned layer. Build once per process with :meth:`load`; pure."""

    def __init__(self, lexicon: Lexicon, model: LinearModel | None = None, *, model_error: str = "") -> None:
        self.lexicon = lexicon
        self.model = model
        self.model_error = model_error  # why the learned layer is off, for the log; "" when on

    @classmethod
    def load(cls, path: Path, model_path: Path | None = DEFAULT_PATH) -> "Triage":
        """The lexicon at ``path`` (flows/triage.yaml) and the model at ``model_path``.

        A lexicon that cannot be used raises (the flow check catches it before
        deploy). A model that cannot be read leaves the rules alone on duty and
        says why in ``model_error``; ``model_path=None`` asks for rules only."""
        lexicon = Lexicon.load(path)
        if model_path is None:
            return cls(lexicon, None, model_error="rules only, as asked")
        try:
            return cls(lexicon, LinearModel.load(model_path))
        except ModelError as exc:
            return cls(lexicon, None, model_error=str(exc))

    def classify(self, text: str, *, learned: bool = True) -> Verdict:
        """``learned=False`` for text the conversation already understands (a menu word, an
        option, a phone number): the rules still read it, the model does not."""
        if not text or not text.strip():
            return ROUTINE
        verdict = self.lexicon.classify(text)
        if verdict.urgent:
            return verdict
        if learned and self.model is not None and self.model.urgent(text):
            return _BY_MODEL
        return ROUTINE

    def rules_only(self, text: str) -> Verdict:
        """The verdict of the lexicon alone (for ``--eval``'s per-layer figures)."""
        return self.lexicon.classify(text)
