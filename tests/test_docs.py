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


def test_the_readme_webhook_check_accepts_what_the_sink_signs_and_refuses_a_forgery():
    import re
    import time

    from bot.callbacks.webhook_sink import signature

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    code = re.search(r"```python\n(import hashlib, hmac, time\n.*?)```", readme, re.S).group(1)
    namespace: dict = {}
    exec(code, namespace)
    verified = namespace["verified"]
    body, ts = b'{"id": "x"}', str(int(time.time()))
    good = {"Frontdoor-Timestamp": ts, "Frontdoor-Signature": signature("s" * 20, ts, body)}
    assert verified(good, body, b"s" * 20)
    assert not verified(good, body + b" ", b"s" * 20)
    assert not verified(dict(good, **{"Frontdoor-Timestamp": "1"}), body, b"s" * 20)
