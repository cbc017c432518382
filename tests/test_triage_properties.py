"""Properties of triage that must hold for any message, not just the labelled ones.

* The Aho-Corasick gate only skips patterns that cannot match: the verdict is
  the same with it and without it (the lexicon tried in full).
* A guard is scoped to the words it guards: a negation or a "years ago" before
  one signal never cancels a second, unguarded signal in the same message.
  (A past phrase reaches to the next clause word or full stop; a bare comma
  is not a clause break, because folding drops it before the patterns run.)
* With the learned layer off (its file missing or broken), the rules still
  answer and the bot still gives the emergency reply to what they catch.
* Words the conversation already understands (a button's words, a phone
  number) are not read by the learned layer; free text around them is.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.conversation.engine import Engine, EngineOptions
from bot.conversation.events import Channel, Inbound, ReplyKind
from bot.conversation.flow import default_flows_dir, load_flow
from bot.conversation.triage import Triage
from bot.conversation.triage_rules import Lexicon
from tests.conftest import FAKE_MOBILE

LEXICON = Lexicon.load(default_flows_dir() / "triage.yaml")
UNGATED = Lexicon.load(default_flows_dir() / "triage.yaml", prefilter=False)

SIGNALS = [
    "i want to kill myself",
    "ive taken all my tablets",
    "im stood on the bridge now",
    "got the rope ready",
    "hes kicking the door in",
    "he strangled me and hes back",
    "took the lot with vodka",
    "my mate says hes going to hang himself",
    "ive cut deeper tonight",
    "chce sie zabic",
]
FRAGMENTS = SIGNALS + [
    "not", "never", "years ago", "used to", "im ok now", "lol", "bridge", "knife", "tablets", "the job",
    "attended", "1", "menu", "call back", "i dont", "tonight", "\U0001F48A", "\u26b0\ufe0f", "\U0001F37A", "and", ".",
]
NEGATIONS = ["not", "never", "dont", "didnt", "i wont", "im not"]
PAST = ["years ago", "i used to", "when i was a kid", "last year"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=8), st.text(max_size=30))
def test_the_prefilter_never_changes_a_verdict(parts, noise):
    for text in (" ".join(parts), " ".join(parts) + " " + noise, noise):
        assert LEXICON.classify(text) == UNGATED.classify(text), text


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(SIGNALS),
    st.sampled_from(SIGNALS),
    st.sampled_from(NEGATIONS + PAST),
    st.sampled_from([" and ", ". ", " but ", "\n", " so "]),
    st.booleans(),
)
def test_a_guard_before_one_signal_never_cancels_another(first, second, guard, sep, guard_first):
    assert LEXICON.classify(first).urgent and LEXICON.classify(second).urgent
    text = f"{guard} {first}{sep}{second}" if guard_first else f"{first}{sep}{guard} {second}"
    assert LEXICON.classify(text).urgent, text


def test_the_rules_answer_alone_when_the_learned_layer_cannot_load(tmp_path):
    broken = tmp_path / "model.json"
    broken.write_text("{not json", encoding="utf-8")
    for path in (broken, tmp_path / "missing.json"):
        triage = Triage.load(default_flows_dir() / "triage.yaml", path)
        assert triage.model is None and triage.model_error, "it says why the layer is off"
        engine = Engine(load_flow(default_flows_dir()), triage, EngineOptions())
        session = engine.new_session(0.0)
        engine.handle(session, Inbound.typed(Channel.TERMINAL, "hi"), 1.0)
        out = engine.handle(session, Inbound.typed(Channel.TERMINAL, "kms"), 2.0)
        assert out.replies[0].kind is ReplyKind.EMERGENCY


def test_the_learned_layer_reads_free_text_but_not_the_words_of_a_button():
    triage = Triage.load(default_flows_dir() / "triage.yaml")
    assert triage.model is not None, triage.model_error
    engine = Engine(load_flow(default_flows_dir()), triage, EngineOptions(allow_fictional_numbers=True))
    session = engine.new_session(0.0)
    for i, msg in enumerate(("hi", "call back", FAKE_MOBILE, "asap", "yes", "yes")):
        engine.handle(session, Inbound.typed(Channel.SMS, msg), float(i + 1))
    assert session.state.startswith("callback_confirm")
    for words in ("send it", "yes", "change the number"):
        verdict = triage.classify(words, learned=False)
        assert not verdict.urgent, words
    # the same state, free text carrying danger: the emergency reply, then the summary again
    out = engine.handle(session, Inbound.typed(Channel.SMS, "send it. ive taken the lot"), 10.0)
    assert out.replies[0].kind is ReplyKind.EMERGENCY and session.state.startswith("callback_confirm")


def test_the_learned_layer_catches_danger_said_without_a_key_word():
    triage = Triage.load(default_flows_dir() / "triage.yaml")
    rules = Triage.load(default_flows_dir() / "triage.yaml", None)
    implicit = [
        "sorted my pension nominee tonight and the dog is going to my sisters tomorrow. thanks for everything",
        "left letters for the kids in the drawer, they'll understand one day",
        "after the night shift it won't matter any more, everyone will be better off",
    ]
    caught = [t for t in implicit if triage.classify(t).urgent]
    assert len(caught) == len(implicit), [t for t in implicit if t not in caught]
    assert any(triage.classify(t).layer == "learned" and not rules.classify(t).urgent for t in implicit), (
        "at least one is caught only by the learned layer"
    )


def test_the_shipped_model_is_plain_data_and_says_what_it_was_trained_on():
    import json

    from bot.conversation.triage_model import DEFAULT_PATH

    data = json.loads(Path(DEFAULT_PATH).read_text(encoding="utf-8"))
    assert data["format"] == "frontdoor-triage-linear/1"
    assert all(isinstance(v, float) for v in list(data["weights"].values())[:1000])
    meta = data["meta"]
    assert not set(meta["train_writers"]) & {"t1", "t2", "t3"}, "test writers never train the model"
    assert not set(meta["dev_writers"]) & {"t1", "t2", "t3"}
