"""Cymraeg: the whole conversation in Welsh, switching language, and the checks that keep drafts honest.

Every Welsh text in flows/ is a draft until a fluent Welsh speaker marks it
``status: reviewed``; these tests show what that status controls. The channel
tests (tests/sms, tests/telegram, tests/webchat, tests/test_chat_cli.py) each
run a whole Welsh conversation with a call back request through their channel.
"""

from __future__ import annotations

import logging
import subprocess
import sys

from bot.conversation.events import Channel, Inbound, ReplyKind
from bot.conversation.flowcheck import check_flow, crisis_path_reviewed, welsh_drafts
from bot.conversation.flow import load_flow
from bot.conversation.sms import MAX_SEGMENTS, measure
from bot.readability import CRISIS_PATH_TARGET, scores
from bot.runtime import offered_languages
from tests.conftest import CRISIS_LINE, FAKE_MOBILE, FLOWS, make_engine
from tests.test_engine import Chat
from tests.test_flowcheck import edit, errors

WELSH = ("en", "cy")


def welsh_chat(channel=Channel.TERMINAL) -> Chat:
    return Chat(make_engine(languages=WELSH, callback_available=True), channel=channel)


def test_a_first_message_in_welsh_gets_the_welsh_welcome():
    for first in ("helo", "Shwmae", "dw i angen help", "bore da"):
        chat = welsh_chat()
        chat.say(first)
        assert chat.session.lang == "cy", first
        text = chat.text()
        assert "Gwasanaeth awtomataidd" in text and CRISIS_LINE in text and "999" in text
        assert "English" in text, "the welcome offers English back in one short line"


def test_an_english_first_message_is_offered_cymraeg_in_one_line():
    chat = welsh_chat(Channel.TELEGRAM)
    out = chat.say("hello")
    assert chat.session.lang == "en"
    assert [o.label for o in out.replies[0].options][-1] == "Cymraeg"


def test_a_whole_call_back_request_in_welsh():
    chat = welsh_chat()
    chat.say("shwmae")
    chat.say("gofyn am alwad")
    assert "Pa rif" in chat.text()
    chat.say(FAKE_MOBILE)
    assert "Pryd" in chat.text()
    chat.say("cyn gynted ag y bo modd")
    chat.say("ydy")
    chat.say("na")
    summary = chat.text()
    assert FAKE_MOBILE in summary and "cyn gynted ag y bo modd" in summary and "Gwiriwch eich cais" in summary
    out = chat.say("ie")
    submits = [a for a in out.actions if type(a).__name__ == "SubmitCallback"]
    assert submits, "the request is handed to the outbox"
    assert submits[0].details.window == "as soon as possible", "the crisis team reads English"
    chat.resolve("ok", request_id="req-1")
    assert "Mae eich cais gyda'r" in chat.text() and CRISIS_LINE in chat.text()


def test_switching_language_mid_conversation_keeps_the_place_and_the_answers():
    chat = welsh_chat()
    chat.say("hi")
    chat.say("2")  # ask for a call back, in English
    chat.say(FAKE_MOBILE)
    assert "When is a good time" in chat.text()
    chat.say("Cymraeg")
    assert chat.session.lang == "cy"
    assert "Pryd mae'n amser da" in chat.text(), "the same question, now in Welsh"
    chat.say("bore")
    chat.say("English")
    assert chat.session.lang == "en"
    assert "voicemail" in chat.text()
    chat.say("yes")
    chat.say("no")
    assert FAKE_MOBILE in chat.text() and "in the morning" in chat.text()


def test_danger_in_welsh_gets_the_emergency_reply_in_welsh_first():
    chat = welsh_chat()
    chat.say("shwmae")
    out = chat.say("dw i eisiau marw")
    reply = out.replies[0]
    assert reply.kind is ReplyKind.EMERGENCY
    first = reply.text.splitlines()[0]
    assert "999" in first and "perygl" in first
    assert CRISIS_LINE in reply.text


def test_danger_in_english_during_a_welsh_session_still_gets_the_emergency_reply():
    chat = welsh_chat()
    chat.say("shwmae")
    out = chat.say("i want to end it all tonight")
    assert out.replies[0].kind is ReplyKind.EMERGENCY and "999" in out.replies[0].text.splitlines()[0]


async def test_a_welsh_button_pressed_after_the_session_ended_still_answers_in_welsh():
    chat = welsh_chat(Channel.TELEGRAM)
    chat.say("shwmae")
    chat.say("diwedd")
    useful = next(o for o in chat.last.replies[0].options if o.id.startswith("feedback_yes"))
    assert useful.id == "feedback_yes@cy", "the button carries the language of its message, nothing else"
    fresh = Chat(chat.engine, channel=Channel.TELEGRAM)  # the ended session is gone
    fresh.press(useful.id)
    assert "Diolch am ddweud wrthym" in fresh.text()


async def test_the_choice_lives_in_the_session_only_and_goes_with_it(tmp_path):
    from bot.config import load
    from bot.gateway import Gateway
    from bot.stores import open_session_store
    from tests.conftest import AcceptingOutbox

    store = await open_session_store(load({"FRONTDOOR_ENV": "test", "FRONTDOOR_DATA_DIR": str(tmp_path)}))
    gateway = Gateway(make_engine(languages=WELSH), store, AcceptingOutbox())
    key = "terminal:cy"
    try:
        await gateway.handle(Channel.TERMINAL, key, Inbound.typed(Channel.TERMINAL, "shwmae"))
        assert (await store.load(key)).lang == "cy"
        delivery = await gateway.handle(Channel.TERMINAL, key, Inbound.typed(Channel.TERMINAL, "diwedd"))
        assert "Diolch am gysylltu" in delivery.replies[0].text and CRISIS_LINE in delivery.replies[0].text
        assert delivery.ended and await store.load(key) is None
        delivery = await gateway.handle(Channel.TERMINAL, key, Inbound.typed(Channel.TERMINAL, "hello"))
        assert "This is an automated service" in delivery.replies[0].text, "a new session: Welsh was not remembered"
    finally:
        await store.close()


def test_signposting_in_welsh_lists_the_welsh_line_and_says_it_is_not_24_7():
    chat = welsh_chat(Channel.WEB)
    chat.say("shwmae")
    chat.say("cymorth arall")
    chat.say("rhywbeth arall")
    text = chat.text()
    assert "0808 164 0123" in text and "7yh" in text and "Nid yw ar agor" in text
    assert "116 123" in text, "the 24/7 routes are listed beside it"
    english = welsh_chat(Channel.WEB)
    english.say("hi")
    english.say("find other support")
    english.say("something else")
    assert "0808 164 0123" not in english.text(), "the Welsh-language line is listed in Welsh conversations"


def test_call_now_and_other_support_say_how_a_deaf_person_reaches_help():
    for lang_first, deaf_words in (("hi", "deaf"), ("shwmae", "byddar")):
        chat = welsh_chat(Channel.WEB)
        chat.say(lang_first)
        chat.press("call_now")
        assert "deaf" in [o.id.partition("@")[0] for o in chat.last.replies[0].options]
        chat.say(deaf_words)
        text = chat.text()
        assert "18001 0300 131 2789" in text and "999bsl.co.uk" in text and "BLUELIGHT" in text and "REGISTER" in text
        chat.say("menu")
        chat.press("support")
        assert "topic_deaf" in [o.id.partition("@")[0] for o in chat.last.replies[0].options]


def test_every_welsh_sms_reply_fits_three_segments_and_keeps_its_accents():
    engine = make_engine(languages=WELSH, callback_available=True)
    sizes = [measure(reply.text) for _, _, reply in engine.previews(Channel.SMS, "cy")]
    assert max(s.segments for s in sizes) <= MAX_SEGMENTS
    assert any(s.encoding == "UCS-2" for s in sizes), "Welsh with its accents goes as UCS-2"


# --- the flow check -------------------------------------------------------


def test_the_flow_check_fails_on_a_missing_welsh_text(flows_copy):
    edit(flows_copy, 'label: {en: "No voicemail", cy: {text: "Dim neges llais", status: draft}}', 'label: {en: "No voicemail"}')
    found = errors(flows_copy)
    assert any("option 'voicemail_no' label has no Welsh (cy) text" in e for e in found), found


def test_the_flow_check_fails_on_an_emergency_reply_without_welsh(flows_copy):
    text = (flows_copy / "conversation.yaml").read_text(encoding="utf-8")
    start = text.index("  emergency:\n    # The one message")
    cy = text.index("    cy:\n", start)
    end = text.index("      status: draft\n", cy) + len("      status: draft\n")
    (flows_copy / "conversation.yaml").write_text(text[:cy] + text[end:], encoding="utf-8")
    assert any("reply 'emergency' has no Welsh (cy) text" in e for e in errors(flows_copy))


def test_the_flow_check_fails_on_a_service_without_welsh(flows_copy):
    edit(flows_copy, """      cy:
        text: "Samaritans: 116 123, am ddim, unrhyw bryd."
        status: draft
""", "", file="services.yaml")
    assert any("service 'samaritans'" in e and "no Welsh" in e for e in errors(flows_copy))


def test_the_flow_check_fails_on_a_welsh_sms_over_three_ucs2_segments(flows_copy):
    edit(flows_copy, 'text: "Beth hoffech chi ei wneud?"', 'text: "Beth hoffech chi ei wneud? Dewiswch un o\'r opsiynau isod, neu ysgrifennwch at y gwasanaeth: mae\'r tîm yn darllen pob neges cyn gynted ag y bo modd, ddydd a nos, bob dydd o\'r flwyddyn."')
    found = errors(flows_copy)
    assert any("state in state 'menu'" in e and "UCS-2 segments" in e and "the limit is 3" in e for e in found), found


def test_the_flow_check_refuses_welsh_with_its_accents_stripped(flows_copy):
    edit(flows_copy, 'text: "Ffonio\'r llinell nawr"', 'text: "Ffonio\'r llinell nawr o\'ch ffon"')
    assert any("'ffon' is missing its accent: write 'ffôn'" in e for e in errors(flows_copy))


def test_drafts_are_listed_for_review_and_do_not_fail_the_check(flows_copy):
    findings = check_flow(flows_copy)
    reviews = [f for f in findings if f.review]
    assert reviews and not [f for f in findings if f.error]
    assert any("reply 'emergency' (crisis path): Welsh text is a draft" in str(f) for f in reviews)
    out = subprocess.run([sys.executable, "-m", "bot", "flow", "check", "--flows", str(flows_copy)], capture_output=True, text=True)
    assert out.returncode == 0
    assert "awaiting review by a fluent Welsh speaker" in out.stdout and f"{len(reviews)} Welsh draft(s)" in out.stdout


# --- what FRONTDOOR_LANGUAGES offers ---------------------------------------


def test_welsh_is_off_by_default_while_crisis_texts_are_drafts():
    assert welsh_drafts(load_flow(FLOWS)), "the shipped Welsh is still awaiting review"
    assert offered_languages(None, load_flow(FLOWS)) == ("en",)


def test_welsh_is_on_by_default_once_the_crisis_path_is_reviewed(flows_copy):
    for name in ("conversation.yaml", "services.yaml"):
        path = flows_copy / name
        path.write_text(path.read_text(encoding="utf-8").replace("status: draft", "status: reviewed"), encoding="utf-8")
    assert crisis_path_reviewed(load_flow(flows_copy))
    assert offered_languages(None, load_flow(flows_copy)) == WELSH


def test_switching_draft_welsh_on_by_hand_is_allowed_and_logged(caplog):
    with caplog.at_level(logging.WARNING):
        assert offered_languages(WELSH, load_flow(FLOWS)) == WELSH
    assert any(getattr(r, "event", "") == "welsh_drafts_offered" for r in caplog.records)


# --- plain language ----------------------------------------------------------


def test_readability_is_measured_offline_and_the_crisis_path_reads_plainly():
    found = scores(load_flow(FLOWS))
    crisis = [s for s in found if s.crisis_path]
    assert len(crisis) >= 20
    assert min(s.flesch for s in crisis) >= CRISIS_PATH_TARGET, [(s.what, s.flesch) for s in crisis if s.flesch < CRISIS_PATH_TARGET]


def test_the_flow_check_prints_the_readability_figures():
    out = subprocess.run([sys.executable, "-m", "bot", "flow", "check"], capture_output=True, text=True)
    assert "Readability (Flesch reading ease, English)" in out.stdout and "crisis path" in out.stdout
