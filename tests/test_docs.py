"""The README and docs can't drift from the code: the diagram and the config table are checked."""

from __future__ import annotations

from pathlib import Path

from bot.conversation.flow import load_flow
from bot.conversation.graph import to_mermaid
from tests.conftest import FLOWS

ROOT = Path(__file__).resolve().parent.parent


def test_readme_opens_with_the_two_commands():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    block = lines[lines.index("```sh") + 1 : lines.index("```sh") + 3]
    assert block[0].startswith("make run") and block[1].startswith("make test")


def test_readme_flow_diagram_is_current():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert to_mermaid(load_flow(FLOWS)) in readme, "regenerate: frontdoor flow graph -o docs/flow.mmd and paste into README"


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
