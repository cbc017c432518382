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
