"""The readiness checks the on-call view brings itself: the store, the callback path, the configuration.

Channels register their own checks (Telegram's webhook, for one) through
:func:`bot.web.readiness.register_check`; these three cover what every
deployment shares.

What fails readiness and what only reports a state is a deliberate choice:

* The session store unreachable, or the outbox not writable: not ready. This
  replica cannot hold a conversation or keep a callback request.
* A callback request waiting past ``FRONTDOOR_CALLBACK_ALERT_SECONDS``:
  *degraded*, still ready. Requests are safe in the outbox and go out when the
  sink answers again; every replica shares the outbox, so failing readiness
  would take them all out of the load balancer together and leave people
  trying to reach help with nothing at all. The alert on
  ``frontdoor_callback_oldest_waiting_seconds`` pages someone instead.
* No callback sink configured: ready, state ``no_sink``. The flow then offers
  only the number, which is a working front door, and /readyz says so.
* A sink configured but the callback path unable to work at all (no key can
  be made or read in the data folder): not ready, ``outbox_down``, as when the
  outbox can't be written. The option is hidden, but that is not what was asked for.
* A channel or sink switched on without what it needs to work: not ready,
  naming the missing variable (names only, never values).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from bot.config import Settings
from bot.runtime import Runtime
from bot.checks import Check

log = logging.getLogger(__name__)

STORE = "session_store"
CALLBACKS = "callbacks"
CONFIG = "config"


async def store_check(runtime: Runtime) -> Check:
    kind = type(runtime.store).__name__
    try:
        alive = await runtime.store.ping()
    except Exception as exc:  # a ping must answer, not raise; treat anything else as down
        log.warning("session store ping failed", extra={"event": "store_ping_failed", "error": type(exc).__name__})
        alive = False
    return Check(STORE, bool(alive), "ok" if alive else "down", {"kind": kind})


async def callbacks_check(runtime: Runtime) -> Check:
    service = runtime.callbacks
    # A stand-in service with a reason (bot/callbacks/unavailable.py) is configured but down, not "no sink".
    if service is None or not (service.available or getattr(service, "unavailable_reason", "")):
        return Check(CALLBACKS, True, "no_sink", {"offered": False})
    health = await _health(service)
    if health is None:
        return Check(CALLBACKS, True, "ok", {"offered": True})
    writable = bool(_field(health, "writable", True))
    waiting = int(_field(health, "waiting", 0) or 0)
    oldest = float(_field(health, "oldest_waiting_seconds", 0.0) or 0.0)
    runtime.metrics.CALLBACK_WAITING.set(waiting)
    runtime.metrics.CALLBACK_OLDEST_AGE.set(oldest)
    threshold = runtime.settings.callback_alert_seconds
    detail: dict[str, float | int | str | bool] = {
        "offered": bool(service.available),
        "outbox_writable": writable,
        "waiting": waiting,
        "oldest_waiting_seconds": round(oldest),
        "alert_after_seconds": threshold,
    }
    for name in ("outbox", "dispatcher", "reason"):  # kinds and states only: "sqlite", "running", "key_unavailable"
        if isinstance(_field(health, name, None), str):
            detail[name] = _field(health, name, "")
    sinks = _field(health, "sinks", None)
    if isinstance(sinks, (list, tuple)):
        detail["sinks"] = ",".join(str(s) for s in sinks)  # sink names ("webhook", "email"), never their addresses
    if not writable:
        return Check(CALLBACKS, False, "outbox_down", detail)
    if waiting and oldest > threshold:
        return Check(CALLBACKS, True, "overdue", detail)
    return Check(CALLBACKS, True, "ok", detail)


def missing_configuration(s: Settings) -> list[str]:
    """Variables a switched-on channel or sink still needs (names only).

    bot.config refuses to start on most gaps; these are the ones it lets
    through because each part is valid alone.
    """
    missing: list[str] = []
    if s.telegram_staff_chat_id and not s.telegram_token:
        missing.append("FRONTDOOR_TELEGRAM_TOKEN")
    if s.twilio_auth_token and not s.public_url and s.env == "production":
        missing.append("FRONTDOOR_PUBLIC_URL")
    return missing


async def config_check(settings: Settings) -> Check:
    sinks = sum(bool(x) for x in (settings.callback_webhook_url, settings.smtp_host, settings.telegram_staff_chat_id))
    detail: dict[str, float | int | str | bool] = {
        "env": settings.env,
        "telegram": settings.telegram_enabled,
        "sms_twilio": bool(settings.twilio_auth_token),
        "sms_notify": bool(settings.notify_api_key),
        "callback_sinks": sinks,
        "shared_sessions": bool(settings.redis_url),
        "shared_outbox": bool(settings.outbox_url),
    }
    missing = missing_configuration(settings)
    if missing:
        detail["missing"] = ",".join(missing)
        return Check(CONFIG, False, "incomplete", detail)
    return Check(CONFIG, True, "ok", detail)


async def _health(service: Any) -> Any:
    health = getattr(service, "health", None)
    if health is None:
        return None
    result = health()
    if asyncio.iscoroutine(result):
        result = await result
    return result


def _field(obj: Any, name: str, default: Any) -> Any:
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)
