"""The log handler writes only what is on its allow list, whoever logs and at whatever level."""

from __future__ import annotations

import io
import json
import logging

import pytest

from bot.config import load
from bot.logs import configure_logging

CANARY = "canary-0c1d I can't stop thinking about the bridge"
PHONE = "07700 900321"
TOKEN = "123456789:AAHfakeTokenForTestsOnly_abcdefghijk"


@pytest.fixture
def output():
    stream = io.StringIO()
    yield lambda env="production": (configure_logging(load({"FRONTDOOR_ENV": env, "FRONTDOOR_HASH_SECRET": "s" * 32, "FRONTDOOR_ENCRYPTION_KEY": "k" * 43 + "=", "FRONTDOOR_LOG_LEVEL": "DEBUG"}), stream), stream)[1]
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.setLevel(logging.WARNING)


def test_a_third_party_logger_never_gets_its_arguments_written(output):
    stream = output()
    logging.getLogger("telegram.ext.Application").debug("Processing update %s", {"message": {"text": CANARY, "chat": {"id": 7700900321}}})
    logging.getLogger("httpx").info('HTTP Request: %s %s "%s %d %s"', "POST", f"https://api.telegram.org/bot{TOKEN}/sendMessage", "HTTP/1.1", 200, "OK")
    written = stream.getvalue()
    assert "Processing update" in written and "HTTP Request" in written
    assert "canary" not in written and "7700900321" not in written and "AAHfake" not in written


def test_only_allow_listed_fields_are_written_and_lines_are_json_in_production(output):
    stream = output()
    logging.getLogger("bot.gateway").warning("degraded", extra={"event": "degraded", "channel": "sms", "text": CANARY, "phone": PHONE})
    line = json.loads(stream.getvalue().splitlines()[-1])
    assert line["event"] == "degraded" and line["channel"] == "sms"
    assert "text" not in line and "phone" not in line and "canary" not in stream.getvalue()


def test_an_exception_is_written_as_its_type_and_frames_without_its_message(output):
    stream = output("development")
    try:
        raise ValueError(f"bad token {TOKEN} for {PHONE}: {CANARY}")
    except ValueError:
        logging.getLogger("bot.channels").exception("update failed", extra={"event": "update_failed"})
    written = stream.getvalue()
    assert "ValueError" in written and "test_logs.py" in written
    assert "AAHfake" not in written and "900321" not in written and "canary" not in written


def test_a_number_slipped_into_an_allowed_field_is_masked(output):
    stream = output()
    logging.getLogger("bot.x").warning("oops", extra={"event": "oops", "reason": f"sender {PHONE} said no"})
    assert "900321" not in stream.getvalue() and "[digits]" in stream.getvalue()


def test_every_field_our_code_logs_is_on_the_allow_list():
    """A field missing from the list is silently dropped: the on-call team would lose it."""
    import re
    from pathlib import Path

    from bot.logs import ALLOWED_FIELDS

    source = "\n".join(p.read_text() for p in (Path(__file__).resolve().parents[1] / "bot").rglob("*.py"))
    fields = set()
    for extra in re.findall(r"extra=\{([^}]*)\}", source):
        fields |= set(re.findall(r'"(\w+)":', extra))
    assert fields - set(ALLOWED_FIELDS) == set()
