"""``frontdoor flow check`` passes on the shipped flows and catches each unsafe edit."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from bot.conversation.flow import load_flow
from bot.conversation.flowcheck import check_flow
from bot.conversation.sms import measure
from tests.conftest import FLOWS


def errors(folder: Path) -> list[str]:
    return [str(f) for f in check_flow(folder) if f.error]


def edit(folder: Path, old: str, new: str, file: str = "conversation.yaml") -> None:
    path = folder / file
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_shipped_flows_pass():
    assert errors(FLOWS) == []


def test_cli_passes_on_shipped_flows():
    out = subprocess.run([sys.executable, "-m", "bot", "flow", "check"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "0 error(s)" in out.stdout


def test_cli_fails_on_a_dead_end_and_names_the_state(flows_copy):
    edit(flows_copy, """      - id: forward
        label: {en: "A message to forward", cy: {text: "Neges i'w hanfon ymlaen", status: draft}}
        words: {en: [forward, message, share, send them], cy: [anfon ymlaen, neges, rhannu]}
        to: worried_share
      - id: menu
        label: {en: "Menu", cy: {text: "Dewislen", status: draft}}
        to: menu
""", "")
    out = subprocess.run([sys.executable, "-m", "bot", "flow", "check", "--flows", str(flows_copy)], capture_output=True, text=True)
    assert out.returncode == 1
    assert "state 'worried' is a dead end" in out.stderr
    assert "conversation.yaml:" in out.stderr


def test_unknown_target(flows_copy):
    edit(flows_copy, "to: worried_share", "to: nowhere")
    assert any("leads to unknown state 'nowhere'" in e for e in errors(flows_copy))


def test_unreachable_state(flows_copy):
    edit(flows_copy, "  worried_share:\n", "  orphan:\n    text: {en: \"Lonely. 0300 131 2789. 999\"}\n    options:\n      - id: menu\n        label: {en: Menu}\n        to: menu\n\n  worried_share:\n")
    assert any("state 'orphan' cannot be reached" in e for e in errors(flows_copy))


def test_state_far_from_the_number(flows_copy):
    edit(flows_copy, 'footer:\n  en: "Crisis line: 0300 131 2789, any time. In danger now: 999."', 'footer:\n  en: "Take care."')
    found = errors(flows_copy)
    assert any("the crisis number is more than one message away" in e for e in found)


def test_sms_text_must_be_gsm7(flows_copy):
    edit(flows_copy, "What time does your shift end? For example 7am or 19:00.", "What time does your shift end\u2019s? \U0001F600")
    assert any("not GSM-7" in e for e in errors(flows_copy))


def test_sms_reply_over_three_segments(flows_copy):
    edit(flows_copy, 'en: "When is a good time for a call?"', 'en: "' + "When is a good time for a call? " * 16 + '"')
    assert any("segments" in e and "callback_when" in e for e in errors(flows_copy))


def test_banned_phrase(flows_copy):
    edit(flows_copy, "Grief can be very hard", "Grief after someone commits suicide can be very hard")
    edit(flows_copy, "Grief after someone commits suicide", "Grief after a colleague committed suicide")
    assert any("banned wording 'committed suicide'" in e for e in errors(flows_copy))


def test_number_not_in_the_directory(flows_copy):
    edit(flows_copy, "Money worries can weigh on everything.", "Money worries can weigh on everything. Call 0800 555 0199.")
    assert any("0800 555 0199" in e and "not in services.yaml" in e for e in errors(flows_copy))


def test_service_without_source(flows_copy):
    edit(flows_copy, "    source: https://www.samaritans.org/how-we-can-help/contact-samaritan/\n", "", file="services.yaml")
    assert any("service 'samaritans' has no source URL" in e for e in errors(flows_copy))


def test_old_verified_date_is_a_warning_only(flows_copy):
    findings = check_flow(flows_copy, today=dt.date(2030, 1, 1))
    assert any(f.warning and "over a year ago" in f.message for f in findings)
    assert not [f for f in findings if f.error]


def test_missing_folder_is_an_error(tmp_path):
    found = errors(tmp_path / "missing")
    assert found and "missing" in found[0]


def test_crisis_words_on_the_lock_screen_line(flows_copy):
    edit(flows_copy, 'en: "What would you like to do?"', 'en: "Thinking about suicide? What would you like to do?"')
    assert any("locked screen" in e and "suicide" in e for e in errors(flows_copy))


def test_yaml_1_1_words_stay_words(flows_copy):
    flow = load_flow(flows_copy)
    assert flow.values["voicemail_ok"]["no"]["en"] == "no"
    edit(flows_copy, 'label: {en: "No voicemail",', "label: {en: no,")
    assert load_flow(flows_copy).states["callback_voicemail"].options[1].label.get("en") == "no"


def test_a_boolean_where_text_belongs_is_refused(flows_copy):
    edit(flows_copy, 'label: {en: "No voicemail",', "label: {en: false,")
    found = errors(flows_copy)
    assert any("should be text" in e for e in found)


@pytest.mark.parametrize("text,segments", [("a" * 160, 1), ("a" * 161, 2), ("a" * 459, 3), ("\u0175" * 70, 1), ("\u0175" * 201, 3)])
def test_segment_counting(text, segments):
    assert measure(text).segments == segments
