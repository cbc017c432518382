"""Readiness checks as values: what a part of the bot reports about itself for ``GET /readyz``.

Kept apart from :mod:`bot.web.readiness` (which registers and runs them) so
a channel can report on itself through its port without importing the web
layer. A check returns a :class:`Check`: a name, ok or not, a short state
word, and a few numbers. Never secrets, URLs with tokens, or anything about
a person.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Awaitable, Callable


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    state: str  # "ok", "degraded", "down", "missing", ...
    detail: dict[str, float | int | str | bool] = field(default_factory=dict)


CheckFn = Callable[[], Awaitable[Check]]
