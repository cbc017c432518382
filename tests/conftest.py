"""Shared fixtures. Tests use Ofcom's drama numbers only (07700 900000-900999)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.conversation.engine import Engine, EngineOptions
from bot.conversation.flow import default_flows_dir

os.environ.setdefault("FRONTDOOR_ENV", "test")

FLOWS = default_flows_dir()
CRISIS_LINE = "0300 131 2789"
FAKE_MOBILE = "07700 900123"
FAKE_MOBILE_E164 = "+447700900123"


class AcceptingOutbox:
    """A callback service that accepts every request: for tests of sessions, not of callbacks.

    The real outbox has its own tests (tests/callbacks); here only the gateway's
    side of a request that was accepted matters.
    """

    available = True

    async def submit(self, details) -> str:
        return "req-1"

    async def cancel(self, request_id: str) -> str:
        return "withdrawn"


def make_engine(**options) -> Engine:
    options.setdefault("allow_fictional_numbers", True)
    return Engine.from_dir(FLOWS, EngineOptions(**options))


@pytest.fixture(scope="session")
def engine() -> Engine:
    return make_engine()


@pytest.fixture
def flows_copy(tmp_path: Path) -> Path:
    """A copy of the shipped flows/ that a test may break."""
    target = tmp_path / "flows"
    target.mkdir()
    for f in FLOWS.iterdir():
        if f.is_file():
            (target / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    return target
