"""Readiness checks: each part of the bot that can stop it doing its job registers one.

``GET /readyz`` (bot/web/health.py) runs every registered check and answers
200 only when all are ok. A check returns a :class:`Check`: a name, ok or not,
a short state word, and a few numbers. Never secrets, URLs with tokens, or
anything about a person.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Awaitable, Callable

from aiohttp import web


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    state: str  # "ok", "degraded", "down", "missing", ...
    detail: dict[str, float | int | str | bool] = field(default_factory=dict)


CheckFn = Callable[[], Awaitable[Check]]
CHECKS = web.AppKey("readiness_checks", list)


def register_check(app: web.Application, check: CheckFn) -> None:
    """Add a readiness check; call from a module's ``setup(app, runtime)``."""
    if CHECKS not in app:
        app[CHECKS] = []
    app[CHECKS].append(check)


def checks(app: web.Application) -> list[CheckFn]:
    return list(app.get(CHECKS, []))
