"""Properties that must hold for any sequence of messages, not just the ones we thought of.

Hypothesis drives random conversations through the engine (option numbers,
global words, phone numbers, junk, emoji, button presses, submit results) and
checks after every step:

* the engine never raises;
* every reply carries 0300 131 2789 and 999, so the number is never more
  than one message away (a stronger form of the rule);
* no reply repeats what the person typed (each message carries a unique
  canary token that appears nowhere in flows/), beyond the confirmed callback
  number in the summary;
* "end" always ends the session, and the gateway wipes it.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.conversation.events import Channel, EndSession, Inbound, InboundKind
from tests.conftest import CRISIS_LINE, make_engine

ENGINE = make_engine()
OPTION_IDS = sorted({o.id for s in ENGINE.flow.states.values() for o in s.options} | {"menu", "back", "number"})
WORDS = ["hi", "1", "2", "3", "4", "5", "6", "7", "9", "0", "menu", "back", "help", "number", "yes", "no", "asap",
         "07700 900123", "+44 7700 900999", "after my shift", "7pm", "19:00", "cancel my call back", "999",
         "send it", "call back", "", " ", "\U0001F600", "???", "english"]

canary = st.from_regex(r"zq[xj]{2}[a-z]{4}", fullmatch=True)
typed = st.one_of(
    st.sampled_from(WORDS),
    st.builds(lambda c, w: f"{w} {c}", canary, st.sampled_from(WORDS)),
    st.builds(lambda c: c, canary),
    st.text(max_size=40),
)
step = st.one_of(
    st.tuples(st.just("type"), typed),
    st.tuples(st.just("press"), st.sampled_from(OPTION_IDS)),
    st.tuples(st.just("unreadable"), st.just("")),
)


def _check(replies, typed_texts):
    for reply in replies:
        assert CRISIS_LINE in reply.text and "999" in reply.text, reply.text
        for t in typed_texts:
            for token in t.split():
                if token.startswith("zq"):
                    assert token not in reply.text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(step, min_size=1, max_size=25), channel=st.sampled_from(list(Channel)), results=st.lists(st.sampled_from(["ok", "failed", "withdrawn", "delivered", "unknown"]), min_size=30, max_size=30))
def test_random_conversations_keep_every_promise(steps, channel, results):
    session = ENGINE.new_session(0.0)
    now = 0.0
    typed_texts: list[str] = []
    for i, (kind, value) in enumerate(steps):
        now += 5
        if kind == "type":
            inbound = Inbound.typed(channel, value, sender_phone="+447700900111")
            typed_texts.append(value)
        elif kind == "press":
            inbound = Inbound.pressed(channel, value)
        else:
            inbound = Inbound(channel, InboundKind.UNREADABLE)
        outcome = ENGINE.handle(session, inbound, now)
        _check(outcome.replies, typed_texts)
        while outcome.pending is not None:
            outcome = ENGINE.resolve(session, results[i], now, request_id=f"id{i}")
            _check(outcome.replies, typed_texts)
        if outcome.ended:
            session = ENGINE.new_session(now)  # what the gateway does: the old one is deleted
        assert outcome.replies or outcome.pending is None


@settings(max_examples=100, deadline=None)
@given(prefix=st.lists(st.sampled_from(WORDS), max_size=10), word=st.sampled_from(["end", "END", "bye", "Stop", "exit"]))
def test_end_always_ends(prefix, word):
    session = ENGINE.new_session(0.0)
    for i, w in enumerate(prefix):
        outcome = ENGINE.handle(session, Inbound.typed(Channel.TERMINAL, w), float(i))
        while outcome.pending is not None:
            outcome = ENGINE.resolve(session, "ok", float(i), request_id="x")
        if outcome.ended:
            session = ENGINE.new_session(float(i))
    outcome = ENGINE.handle(session, Inbound.typed(Channel.TERMINAL, word), 99.0)
    assert any(isinstance(a, EndSession) for a in outcome.actions)
