"""docs/SAFETY.md stays true: every test the hazard log names exists.

A control is only as good as the test that proves it. If a named test is
renamed or removed, this fails until the hazard log changes with it.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAFETY = ROOT / "docs" / "SAFETY.md"


def named_tests() -> list[tuple[str, str]]:
    text = SAFETY.read_text(encoding="utf-8")
    return re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", text)


def named_paths() -> list[str]:
    text = SAFETY.read_text(encoding="utf-8")
    return re.findall(r"`(tests/[\w/*]+(?:\.py)?/?)`", text)


def test_every_test_the_hazard_log_names_exists():
    missing = []
    for path, name in named_tests():
        source = ROOT / path
        if not source.exists() or not re.search(rf"^(?:async )?def {name}\b", source.read_text(encoding="utf-8"), re.M):
            missing.append(f"{path}::{name}")
    assert named_tests(), "the hazard log names no tests"
    assert missing == [], f"docs/SAFETY.md names tests that do not exist: {missing}"


def test_every_test_folder_or_file_the_hazard_log_names_exists():
    missing = [p for p in named_paths() if not list(ROOT.glob(p.rstrip("/")))]
    assert missing == [], f"docs/SAFETY.md names test paths that do not exist: {missing}"
