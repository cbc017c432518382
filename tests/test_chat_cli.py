"""``frontdoor chat`` with piped input: the README's first example, and junk, as a new user types it."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import CRISIS_LINE


def chat(script: str, tmp_path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRONTDOOR_")}
    env["FRONTDOOR_DATA_DIR"] = str(tmp_path)
    return subprocess.run([sys.executable, "-m", "bot", "chat"], input=script, env=env, capture_output=True, text=True, timeout=60)


def test_the_readme_example_shows_the_number_and_ends(tmp_path):
    result = chat("hi\n1\nend\n", tmp_path)
    assert result.returncode == 0
    replies = [r for r in result.stdout.split("\n\n") if r.strip()]
    assert len(replies) == 3
    assert all(CRISIS_LINE in r for r in replies)
    assert "Nothing from this conversation has been kept" in replies[-1]


def test_gibberish_an_empty_line_and_emoji_still_get_the_number(tmp_path):
    result = chat("asdkjh qwe\n\n\U0001F600\U0001F62D\n", tmp_path)
    assert result.returncode == 0
    replies = [r for r in result.stdout.split("\n\n") if r.strip()]
    assert len(replies) == 3 and all(CRISIS_LINE in r for r in replies)
    assert "Traceback" not in result.stderr


def test_a_welsh_conversation_with_a_call_back_request_and_a_switch(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRONTDOOR_")}
    env.update(FRONTDOOR_DATA_DIR=str(tmp_path), FRONTDOOR_LANGUAGES="en,cy")
    script = "shwmae\n2\n07700 900123\n1\nydy\nna\nie\nEnglish\nCymraeg\ndiwedd\n"
    result = subprocess.run([sys.executable, "-m", "bot", "chat"], input=script, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    replies = [r for r in result.stdout.split("\n\n") if r.strip()]
    assert "Gwasanaeth awtomataidd" in replies[0]
    assert "Gwiriwch eich cais" in replies[5] and "07700 900123" in replies[5]
    assert "Mae eich cais gyda'r llinell argyfwng" in replies[6]
    assert "Your request is with the team" in replies[7], "switched to English in the same place"
    assert "Mae eich cais gyda'r llinell argyfwng" in replies[8]
    assert "Diolch am gysylltu" in replies[9]
    assert all(CRISIS_LINE in r or "999" in r for r in replies)
    # "Mae eich cais gyda'r ..." is only said once the outbox has the request (tests/test_gateway.py)
