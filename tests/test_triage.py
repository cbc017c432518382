"""Triage reads every message first: urgent ones must never be missed.

The evaluation sets in tests/triage_eval/ are invented messages, labelled
urgent, distress or routine (en.tsv in English, cy.tsv in Welsh). The bar is
the issue's: no urgent message missed, and under 5% false alarms on routine
ones. ``frontdoor triage --eval tests/triage_eval/*.tsv`` prints the figures.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot import cli
from bot.commands.triage import score
from bot.conversation.triage_corpus import read_labelled
from bot.conversation.flow import default_flows_dir
from bot.conversation.triage import Triage

EVAL = Path(__file__).parent / "triage_eval"


@pytest.fixture(scope="module")
def triage() -> Triage:
    return Triage.load(default_flows_dir() / "triage.yaml")


@pytest.mark.parametrize("name,minimum", [("en.tsv", 300), ("cy.tsv", 60)])
def test_no_urgent_message_in_the_evaluation_set_is_missed(triage, name, minimum):
    rows = read_labelled(EVAL / name)
    assert len(rows) >= minimum, f"{name} should hold at least {minimum} labelled messages"
    assert {ex.label for ex in rows} <= {"urgent", "distress", "routine"}
    missed = [ex.text for ex in rows if ex.label == "urgent" and not triage.classify(ex.text).urgent]
    assert missed == [], f"urgent messages that got no emergency reply: {missed}"


@pytest.mark.parametrize("name", ["en.tsv", "cy.tsv"])
def test_false_alarms_on_routine_messages_stay_under_five_percent(triage, name):
    rows = read_labelled(EVAL / name)
    s = score(triage, rows)
    alarms = [ex.text for ex in rows if ex.label == "routine" and triage.classify(ex.text).urgent]
    assert s["false_alarm_rate_routine"] < 0.05, f"{len(alarms)} routine messages tripped triage: {alarms}"


@pytest.mark.parametrize(
    "message",
    [
        "I want to kill myself",
        "im going to end it tonight",
        "kms",
        "i cant go on any more",
        "ive taken all my tablets",
        "I've took a load of paracetamol with vodka",
        "im stood on the bridge",
        "got the rope ready",
        "i want to die",
        "im suicidle",  # a typo
        "i want to kil myslef",  # two typos
        "my colleague just texted me goodbye and isnt answering",
        "my mate says hes going to hang himself",
        "dw i eisiau marw",
        "dwi'n mynd i ladd fy hun heno",
        "I tried to kill myself years ago and I want to do it again tonight",
    ],
)
def test_danger_now_is_urgent_however_it_is_typed(triage, message):
    assert triage.classify(message).urgent


@pytest.mark.parametrize(
    "message",
    [
        "I'm not suicidal, just stressed",
        "I tried to kill myself years ago, I'm OK now",
        "I used to self harm as a teenager",
        "attended a sudden death on nights and cant stop thinking about it",
        "firearms debrief tomorrow, who do I talk to",
        "dealt with a jumper on the bridge last week",
        "what's the number",
        "call back please",
        "1",
        "menu",
    ],
)
def test_negated_past_and_work_talk_is_not_an_emergency(triage, message):
    assert not triage.classify(message).urgent


@pytest.mark.parametrize("message", ["dydw i ddim yn hunanladdol", "I'm not suicidal, just stressed", "I used to self harm as a teenager"])
def test_the_rules_negation_and_past_guards_hold(triage, message):
    # The guards belong to the rules. The learned layer may still flag a negated message
    # ("not suicidal" is distress, close to danger): a false alarm there costs one paragraph.
    assert not triage.rules_only(message).urgent


TEST_BARS = {"t1.tsv": 0.93, "t2.tsv": 0.90, "t3.tsv": 0.87}  # first-run figures, 2026-12-02: never lower them


@pytest.mark.parametrize("name", sorted(TEST_BARS))
def test_held_back_test_writers_stay_at_their_first_run_figures(triage, name):
    """The test writers never trained or tuned anything (splits.yaml). Their first-run figures
    are the bar; the 0.95 recall goal is not met yet (tests/triage_eval/LEDGER.md)."""
    rows = read_labelled(EVAL / "corpus" / name)
    s = score(triage, rows)
    assert s["recall"] >= TEST_BARS[name], s
    assert s["false_alarm_rate_routine"] <= 0.055, s


def test_the_cli_prints_a_verdict_per_line_and_never_the_message():
    secret = "canary-41 i want to kill myself"
    out = subprocess.run(
        [sys.executable, "-m", "bot", "triage"],
        input=f"{secret}\nwhat is the number\n\n",
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    lines = out.splitlines()
    assert lines[0].startswith("urgent\t") and lines[1] == "routine" and lines[2] == "routine"
    assert "canary" not in out and "kill" not in out


def test_the_cli_evaluates_the_shipped_sets_and_says_plainly_when_it_cannot(tmp_path, capsys):
    assert cli.main(["triage", "--eval"]) == 0
    out = capsys.readouterr().out
    assert "en.tsv [train]: urgent recall" in out and "cy.tsv [train]: urgent recall" in out, "English and Welsh are reported separately"
    assert "(rules alone" in out and "urgent recall by category" in out, "per layer and per category"

    assert cli.main(["triage", "--eval", str(tmp_path / "missing.tsv")]) == 2
    assert cli.main(["triage", "--eval", str(tmp_path)]) == 2  # a folder with no .tsv files
    err = capsys.readouterr().err
    assert "can't read" in err and "no labelled .tsv files" in err and "Traceback" not in err


def test_a_broken_lexicon_fails_the_flow_check(flows_copy):
    from bot.conversation.flowcheck import check_flow

    path = flows_copy / "triage.yaml"
    path.write_text(path.read_text().replace("{method} {me}", "{method} {nobody}", 1))
    findings = [str(f) for f in check_flow(flows_copy)]
    assert any("triage.yaml" in f and "nobody" in f for f in findings), findings
