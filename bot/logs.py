"""Logging that cannot betray anyone: an allow list on the root handler.

The promise is "message text is never written to logs, at any level". A deny
list (scrub what looks like a phone number) fails open the first time a
library logs something new, so this works the other way round: the one
handler on the root logger builds each line *only* from fields on an allow
list, and everything else is dropped before it is formatted.

* Our own loggers (``bot.*``) log constant messages with ``extra={...}``
  fields; only the fields in :data:`ALLOWED_FIELDS` are written.
* Third-party loggers (python-telegram-bot, httpx, aiohttp, redis) log whole
  updates, request URLs with the bot token, and payloads. Of theirs we write
  the logger name, the level and the *format string* (the constant text in
  their source), never the arguments that carry the data.
* Exceptions are written as their type and the frames' file, line and
  function: no message (PTB's InvalidToken quotes the token), no locals.
* As a last belt and braces, long digit runs (chat ids, phone numbers) and
  anything shaped like a bot token are masked in whatever is written.

Chat ids and phone numbers appear only as keyed hashes (:mod:`bot.identity`),
which callers pass as ``key``. JSON lines in production, readable text in
development and tests.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import traceback
from typing import Any

from bot.config import Settings

ALLOWED_FIELDS = (
    "event",
    "channel",
    "key",
    "ref",
    "sink",
    "attempts",
    "status",
    "reason",
    "error",
    "state",
    "count",
    "seconds",
    "method",
    "route",
    "provider",
    "mode",
    "check",
    "signal",
    "replicas",
    "waiting",
    "lang",
    "kind",
    "retry_in",
)
_TOKEN = re.compile(r"\b\d{6,}:[A-Za-z0-9_-]{20,}")  # a Telegram bot token
_DIGITS = re.compile(r"\+?\d[\d ]{5,}\d")  # chat ids, phone numbers in any spacing
_OURS = "bot"


def mask(text: str) -> str:
    """Mask bot tokens and long digit runs; the last line of defence, not the first."""
    return _DIGITS.sub("[digits]", _TOKEN.sub("[token]", text))


def _is_ours(record: logging.LogRecord) -> bool:
    return record.name == _OURS or record.name.startswith(_OURS + ".")


def safe_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The only things about a record that may be written."""
    msg = record.msg if isinstance(record.msg, str) else type(record.msg).__name__
    if _is_ours(record) and record.args:
        msg = msg  # our messages are constants; arguments are never interpolated
    out: dict[str, Any] = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
        "level": record.levelname,
        "logger": record.name,
        "msg": mask(msg),
    }
    for name in ALLOWED_FIELDS:
        value = record.__dict__.get(name)
        if value is None:
            continue
        if isinstance(value, (bool, int, float)):
            out[name] = value
        else:
            out[name] = mask(str(value))[:200]
    if record.exc_info and record.exc_info[0] is not None:
        out["exception"] = describe_exception(record.exc_info[1])
    return out


def describe_exception(exc: BaseException | None) -> str:
    """The exception's type and where it happened: no message, no locals, no payload."""
    if exc is None:
        return ""
    frames = traceback.extract_tb(exc.__traceback__, limit=12)
    where = " < ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}" for f in reversed(frames))
    return f"{type(exc).__module__}.{type(exc).__qualname__}" + (f" at {where}" if where else "")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(safe_fields(record), ensure_ascii=False)


class ReadableFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        f = safe_fields(record)
        extras = " ".join(f"{k}={v}" for k, v in f.items() if k not in ("time", "level", "logger", "msg", "exception"))
        line = f"{f['time'][11:19]} {f['level']:<7} {f['logger']}: {f['msg']}" + (f"  {extras}" if extras else "")
        if "exception" in f:
            line += f"\n    {f['exception']}"
        return line


def configure_logging(settings: Settings, stream=None) -> logging.Handler:
    """Put the one redacting handler on the root logger; remove any others."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if settings.env == "production" else ReadableFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    # aiohttp's access log puts paths and query strings in its arguments; our own
    # middleware counts requests in metrics instead.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    logging.captureWarnings(True)
    return handler
