"""The readiness registry: each part of the bot that can stop it doing its job registers a check.

``GET /readyz`` (bot/web/health.py) runs every registered check and answers
200 only when all are ok. The check itself is a :class:`bot.checks.Check`;
channels register theirs through their port (``port.add_check``).
"""

from __future__ import annotations

from aiohttp import web

from bot.checks import Check, CheckFn

__all__ = ["CHECKS", "Check", "CheckFn", "checks", "register_check"]

CHECKS = web.AppKey("readiness_checks", list)


def register_check(app: web.Application, check: CheckFn) -> None:
    """Add a readiness check to ``app``."""
    if CHECKS not in app:
        app[CHECKS] = []
    app[CHECKS].append(check)


def checks(app: web.Application) -> list[CheckFn]:
    return list(app.get(CHECKS, []))
