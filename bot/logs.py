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

The same handler paces records by their ``event`` (:class:`EventRateLimit`):
an unpaced flood once wrote 435,604 "degraded" warnings (48 MB) in a minute,
one per reply, which buries everything else and fills disks. Exact counts are
the metrics' job; the log needs one line per event per interval and how many
it held back.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import traceback
from typing import Any, Callable

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
    "suppressed",
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


class EventRateLimit(logging.Filter):
    """Let the first record of each ``event`` through, then at most one per ``interval`` seconds.

    The one let through after a quiet spell carries ``suppressed``: how many
    records of that event were dropped since the last one written. ERROR and
    above are counted apart from lower levels, so a flood of warnings can't
    hide the first error of the same name. Records without ``event`` (third
    parties) pass untouched.

    Per record it costs a dict lookup and a clock read. Memory is capped at
    ``max_events`` names (ours are constants, a few dozen); past the cap,
    names that have been quiet for an interval are forgotten, and if none
    has, new names share one overflow slot so they are still paced. Counts
    left when a flood stops are written with that event's next record; they
    are not lost, just late, and DEGRADED_REPLIES counts every one anyway.
    No lock: under threads a count may be off by one, which is harmless.
    """

    OVERFLOW = "(other events)"

    def __init__(self, interval: float = 10.0, max_events: int = 1024, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.interval = interval
        self.max_events = max_events
        self.clock = clock
        self._seen: dict[tuple[str, bool], list] = {}  # (event, is_error) -> [last written at, dropped since]
        self._swept_at = float("-inf")

    def __len__(self) -> int:
        return len(self._seen)

    def filter(self, record: logging.LogRecord) -> bool:
        event = record.__dict__.get("event")
        if event is None:
            return True
        key = (event, record.levelno >= logging.ERROR)
        now = self.clock()
        slot = self._seen.get(key)
        if slot is None:
            if len(self._seen) >= self.max_events and not self._forget_quiet(now):
                key = (self.OVERFLOW, key[1])
                slot = self._seen.get(key)
            if slot is None:
                self._seen[key] = [now, 0]
                return True
        if now - slot[0] < self.interval:
            slot[1] += 1
            return False
        if slot[1]:
            record.suppressed = slot[1]
        slot[0], slot[1] = now, 0
        return True

    def _forget_quiet(self, now: float) -> bool:
        """Make room: drop names quiet for an interval with nothing held back. Sweeps at most once an interval."""
        if now - self._swept_at < self.interval:
            return False
        self._swept_at = now
        quiet = [k for k, (at, dropped) in list(self._seen.items()) if now - at >= self.interval and not dropped and k[0] != self.OVERFLOW]
        for k in quiet:
            self._seen.pop(k, None)
        return bool(quiet)


def configure_logging(settings: Settings, stream=None, *, clock: Callable[[], float] = time.monotonic) -> logging.Handler:
    """Put the one redacting, event-pacing handler on the root logger; remove any others."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if settings.env == "production" else ReadableFormatter())
    handler.addFilter(EventRateLimit(clock=clock))
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
