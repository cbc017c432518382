"""The conversation as a person meets it, through the sans-I/O engine."""

from __future__ import annotations

import pytest

from bot.conversation.engine import FRESH
from bot.conversation.events import (
    CancelCallback,
    Channel,
    ClearChat,
    CountFeedback,
    CountUrgent,
    EndSession,
    Inbound,
    InboundKind,
    ReplyKind,
    SendContactCard,
    SubmitCallback,
)
from tests.conftest import CRISIS_LINE, FAKE_MOBILE, FAKE_MOBILE_E164, make_engine

T, SMS, TG = Channel.TERMINAL, Channel.SMS, Channel.TELEGRAM


class Chat:
    """A person talking to the engine: keeps one session and a clock."""

    def __init__(self, engine, channel=T, sender=""):
        self.engine, self.channel, self.sender = engine, channel, sender
        self.session = engine.new_session(1000.0)
        self.now = 1000.0
        self.last = None

    def say(self, text, advance=1.0):
        self.now += advance
        self.last = self.engine.handle(self.session, Inbound.typed(self.channel, text, sender_phone=self.sender), self.now)
        return self.last

    def press(self, choice):
        self.now += 1
        self.last = self.engine.handle(self.session, Inbound.pressed(self.channel, choice), self.now)
        return self.last

    def text(self):
        return "\n".join(r.text for r in self.last.replies)

    def resolve(self, result, request_id=""):
        self.last = self.engine.resolve(self.session, result, self.now, request_id=request_id)
        return self.last


def test_first_message_says_automated_999_and_number_and_is_not_a_gate(engine):
    chat = Chat(engine)
    out = chat.say("hello")
    reply = out.replies[0]
    intro = reply.text.split("\n")[:3]
    assert "automated" in intro[0]
    assert CRISIS_LINE in intro[1]
    assert "999" in intro[2]
    labels = [o.label for o in reply.options]
    assert labels[0] == "Call the crisis line now"
    assert "Ask for a call back" in labels and "Save the number" in labels


def test_call_now_gives_number_confidentiality_and_cost(engine):
    chat = Chat(engine, channel=TG)
    chat.say("hi")
    text = chat.press("call_now").replies[0].text
    assert text.startswith(f"Call {CRISIS_LINE}")
    assert "confidential" in text and "independent of your force" in text
    assert "01 or 02" in text


def test_callback_request_is_confirmed_only_after_the_action_succeeds(engine):
    chat = Chat(engine)
    for msg in ("hi", "2", FAKE_MOBILE, "1", "2", "2"):
        chat.say(msg)
    summary = chat.text()
    assert FAKE_MOBILE in summary and "as soon as possible" in summary
    out = chat.say("yes")
    assert out.replies == ()  # nothing is claimed before the outbox has it
    (action,) = out.actions
    assert isinstance(action, SubmitCallback)
    assert action.details.phone == FAKE_MOBILE_E164
    assert action.details.window == "as soon as possible"
    assert action.details.voicemail_ok is False and action.details.say_who_is_calling is False
    assert "with the team" in chat.resolve("ok", request_id="r1").replies[0].text
    assert chat.session.slots["callback_id"] == "r1"


def test_a_failed_submit_says_so_plainly_and_gives_the_number(engine):
    chat = Chat(engine)
    for msg in ("hi", "call back", FAKE_MOBILE, "asap", "yes", "yes", "send it"):
        chat.say(msg)
    text = chat.resolve("failed").replies[0].text
    assert "could not be sent" in text and CRISIS_LINE in text and "999" in text


def test_after_my_shift_with_a_time_is_a_window(engine):
    chat = Chat(engine)
    for msg in ("hi", "2", FAKE_MOBILE, "after my shift"):
        chat.say(msg)
    assert "shift end" in chat.text()
    chat.say("7")  # a bare hour is not guessed at
    assert "did not understand that time" in chat.text()
    for msg in ("7.30pm", "no", "yes", "yes"):
        chat.say(msg)
    (action,) = chat.last.actions
    assert action.details.window == "after 19:30 (after their shift)"


def test_sms_offers_this_number_and_uses_the_sender(engine):
    chat = Chat(engine, channel=SMS, sender="+447700900456")
    chat.say("hi")
    chat.say("2")
    assert "1 This number" in chat.text()
    for msg in ("1", "1", "1", "1", "1"):
        chat.say(msg)
    (action,) = chat.last.actions
    assert action.details.phone == "+447700900456" and action.details.voicemail_ok


def test_drama_numbers_only_outside_production():
    chat = Chat(make_engine(allow_fictional_numbers=False))
    for msg in ("hi", "2", FAKE_MOBILE):
        chat.say(msg)
    assert "does not look like a UK phone number" in chat.text()
    assert chat.session.state == "callback_phone"


@pytest.mark.parametrize("junk", ["zzzz qqq", "", "   ", "\U0001F600\U0001F622", "42", "ñ" * 500])
def test_anything_not_understood_gets_options_and_the_number(engine, junk):
    chat = Chat(engine)
    chat.say("hi")
    out = chat.say(junk)
    assert CRISIS_LINE in out.replies[0].text and "999" in out.replies[0].text
    assert out.replies[0].options


@pytest.mark.parametrize("word", ["number", "NUMBER", "numbr", "Phone", "call"])
def test_the_number_intent_in_any_state_and_case(engine, word):
    chat = Chat(engine)
    for msg in ("hi", "2"):
        chat.say(msg)
    text = chat.say(word).replies[0].text
    assert text.startswith(f"Call {CRISIS_LINE}")
    assert chat.session.state == "callback_phone"  # still where they were


@pytest.mark.parametrize("word", ["end", "STOP", "bye", "Exit", "goodbye", "Bye!"])
def test_ending_words_end_the_session(engine, word):
    chat = Chat(engine)
    chat.say("hi")
    out = chat.say(word)
    assert any(isinstance(a, EndSession) for a in out.actions)
    text = out.replies[0].text
    assert "Thank you" in text and "Nothing from this conversation has been kept" in text
    assert CRISIS_LINE in text and "999" in text


def test_back_and_menu_leave_every_callback_step(engine):
    chat = Chat(engine)
    for msg in ("hi", "2", FAKE_MOBILE, "after my shift"):
        chat.say(msg)
    chat.say("back")
    assert chat.session.state == "callback_when"
    chat.say("menu")
    assert chat.session.state == "menu"


def test_urgent_message_leads_with_999_and_returns_to_where_they_were(engine):
    chat = Chat(engine)
    for msg in ("hi", "3"):
        chat.say(msg)
    before = chat.session.state
    out = chat.say("i want to kill myself tonight")
    reply = out.replies[0]
    assert reply.kind is ReplyKind.EMERGENCY
    assert "999" in reply.text.split("\n")[0], "999 comes first"
    assert CRISIS_LINE in reply.text.split("\n")[1]
    assert chat.session.state == before
    assert out.replies[-1].options, "the options of where they were come back"
    assert CountUrgent() in out.actions
    assert "urgent" not in repr(chat.session.to_dict())  # no flag on the person


def test_an_urgent_message_mid_call_back_brings_the_pending_question_back(engine):
    chat = Chat(engine)
    for msg in ("hi", "call back"):
        chat.say(msg)
    asking = chat.say(FAKE_MOBILE).replies[-1]  # now: when should they call?
    state = chat.session.state
    out = chat.say("actually ive got the tablets here")
    assert [r.kind for r in out.replies] == [ReplyKind.EMERGENCY, asking.kind]
    assert out.replies[1] == asking, "the question they were answering, with its options, comes back"
    assert chat.session.state == state and chat.session.slots.get("phone")
    chat.say("asap")
    assert chat.session.state != state, "and the call back carries on from there"


def test_danger_from_someone_else_gets_the_same_999_first_reply(engine):
    chat = Chat(engine)
    chat.say("hi")
    for msg in ("hes outside with a knife and kicking the door in", "my partner has locked herself in the bathroom with all her pills"):
        reply = chat.say(msg).replies[0]
        assert reply.kind is ReplyKind.EMERGENCY and "999" in reply.text.split("\n")[0]


def test_emergency_word_gets_the_emergency_reply(engine):
    chat = Chat(engine)
    assert chat.say("999").replies[0].kind is ReplyKind.EMERGENCY


def test_idle_session_starts_fresh_with_a_note():
    engine = make_engine(idle_seconds=60)
    chat = Chat(engine)
    for msg in ("hi", "2", FAKE_MOBILE):
        chat.say(msg)
    chat.say("1", advance=61)
    assert "timed out and was cleared" in chat.text()
    assert chat.session.slots == {}
    assert chat.session.state == "welcome"


def test_unreadable_messages_get_a_kind_answer_with_the_number(engine):
    chat = Chat(engine, channel=TG)
    chat.say("hi")
    out = engine.handle(chat.session, Inbound(TG, InboundKind.UNREADABLE), 2000)
    assert "only read text" in out.replies[0].text and CRISIS_LINE in out.replies[0].text


def test_save_number_and_clear_chat_are_actions_for_the_channel(engine):
    chat = Chat(engine, channel=TG)
    chat.say("hi")
    assert SendContactCard() in chat.press("save").actions
    chat.press("menu")
    chat.press("data")
    assert ClearChat() in chat.press("clear_chat").actions


def test_feedback_after_the_end_is_only_counted(engine):
    chat = Chat(engine, channel=TG)
    chat.say("hi")
    chat.say("end")
    fresh = Chat(engine, channel=TG)  # the session was wiped: a button press opens a new one
    out = fresh.press("feedback_yes")
    assert CountFeedback(useful=True) in out.actions
    assert any(isinstance(a, EndSession) for a in out.actions)
    assert CRISIS_LINE in out.replies[0].text


def test_withdrawing_a_callback(engine):
    chat = Chat(engine)
    for msg in ("hi", "2", FAKE_MOBILE, "1", "1", "1", "1"):
        chat.say(msg)
    chat.resolve("ok", request_id="req-7")
    out = chat.say("cancel my call back")
    assert out.actions == (CancelCallback("req-7"),) and out.replies == ()
    assert "withdrawn" in chat.resolve("withdrawn").replies[0].text
    chat.say("cancel my call back")
    assert "no call back request" in chat.text()


def test_withdrawing_after_delivery_says_the_team_has_it(engine):
    chat = Chat(engine)
    for msg in ("hi", "2", FAKE_MOBILE, "1", "1", "1", "1"):
        chat.say(msg)
    chat.resolve("ok", request_id="req-8")
    chat.say("cancel callback")
    text = chat.resolve("delivered").replies[0].text
    assert "already has your request" in text and CRISIS_LINE in text


def test_without_a_callback_sink_the_option_is_not_offered():
    chat = Chat(make_engine(callback_available=False))
    out = chat.say("hi")
    assert "Ask for a call back" not in [o.label for o in out.replies[0].options]
    chat.say("call back")
    assert chat.session.state == "welcome"


def test_the_session_never_holds_message_text(engine):
    chat = Chat(engine)
    for msg in ("hi", "my secret canary words", "2", "canary again", FAKE_MOBILE):
        chat.say(msg)
    assert "canary" not in repr(chat.session.to_dict())


def test_a_fresh_session_is_greeted_whatever_it_says(engine):
    chat = Chat(engine)
    assert chat.session.state == FRESH
    chat.say("3")
    assert chat.session.state == "welcome"


def test_welsh_is_offered_and_switches_when_enabled():
    engine = make_engine(languages=("en", "cy"))
    chat = Chat(engine, channel=TG)
    out = chat.say("hello")
    assert "cymraeg" in [o.id for o in out.replies[0].options]
    chat.press("cymraeg")
    assert chat.session.lang == "cy"
    chat.say("english")
    assert chat.session.lang == "en"


def test_a_first_message_in_welsh_gets_welsh_straight_away():
    engine = make_engine(languages=("en", "cy"))
    chat = Chat(engine)
    chat.say("shwmae")
    assert chat.session.lang == "cy"


def test_welsh_is_not_offered_until_enabled(engine):
    chat = Chat(engine, channel=TG)
    out = chat.say("shwmae")
    assert chat.session.lang == "en"
    assert "cymraeg" not in [o.id for o in out.replies[0].options]
