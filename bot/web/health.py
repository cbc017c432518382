"""The on-call endpoints: /readyz and /metrics (/healthz, liveness only, is in bot.web.app).

``GET /readyz`` runs every check in the readiness registry (the ones the
channels registered plus :mod:`bot.web.oncall_checks`) side by side, each
under its own timeout, so it answers within about
:data:`CHECK_TIMEOUT_SECONDS` even when Redis hangs. It answers 200 when every
check is ok and 503 otherwise, with a small JSON body::

    {"status": "ready" | "degraded" | "not_ready" | "shutting_down",
     "checks": {"session_store": {"ok": true, "state": "ok", "kind": "RedisStore"}, ...}}

"degraded" is still 200: the bot does its job, but something the on-call team
should look at is off (a callback overdue, a Telegram backlog).

``GET /metrics`` is Prometheus text from the runtime's metrics registry (:data:`bot.metrics.DEFAULT` unless a test gave another). The
gauges that describe the present (active sessions, the callback outbox,
readiness) are refreshed at scrape time, each under a timeout. With
``FRONTDOOR_METRICS_TOKEN`` set it needs ``Authorization: Bearer <token>``.

Neither endpoint carries a secret, a URL, an id or anything a person wrote.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import sys
from dataclasses import dataclass
from functools import partial

from aiohttp import web
from prometheus_client.exposition import choose_encoder

from bot.metrics import Metrics
from bot.runtime import Runtime
from bot.web import oncall_checks
from bot.web.loop_lag import loop_lag_ctx
from bot.checks import Check, CheckFn
from bot.web.readiness import checks, register_check

log = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 2.0
COUNT_TIMEOUT_SECONDS = 1.0
DEGRADED_STATES = frozenset({"degraded", "overdue"})



@dataclass(frozen=True, slots=True)
class Report:
    status: str
    checks: tuple[Check, ...]

    @property
    def ready(self) -> bool:
        return self.status in ("ready", "degraded")

    def as_json(self) -> dict:
        return {
            "status": self.status,
            "checks": {c.name: {"ok": c.ok, "state": c.state, **c.detail} for c in self.checks},
        }


def check_name(fn: CheckFn) -> str:
    """The name a check would report, for when it times out or raises before reporting.

    A check may carry ``check_name``; otherwise its module's ``CHECK_NAME``,
    otherwise the function's own name.
    """
    target = getattr(fn, "func", fn)  # functools.partial
    name = getattr(fn, "check_name", None) or getattr(target, "check_name", None)
    if name is None:
        module = sys.modules.get(getattr(target, "__module__", "") or "")
        name = getattr(module, "CHECK_NAME", None)
    return str(name or getattr(target, "__name__", "check"))


def _named(fn: CheckFn, name: str) -> CheckFn:
    wrapped = partial(fn)
    wrapped.check_name = name  # type: ignore[attr-defined]
    return wrapped


async def _run_one(fn: CheckFn, timeout: float) -> Check:
    try:
        return await asyncio.wait_for(fn(), timeout)
    except TimeoutError:
        log.warning("readiness check timed out", extra={"event": "readiness_timeout", "check": check_name(fn)})
        return Check(check_name(fn), False, "timeout", {"timeout_seconds": timeout})
    except Exception as exc:
        log.warning("readiness check failed", extra={"event": "readiness_error", "check": check_name(fn), "error": type(exc).__name__})
        return Check(check_name(fn), False, "error", {})


async def evaluate(fns: list[CheckFn], metrics: Metrics, timeout: float = CHECK_TIMEOUT_SECONDS) -> Report:
    """Run every check at once; the answer takes as long as the slowest, at most ``timeout``."""
    results = tuple(await asyncio.gather(*(_run_one(fn, timeout) for fn in fns)))
    if not all(c.ok for c in results):
        status = "not_ready"
    elif any(c.state in DEGRADED_STATES for c in results):
        status = "degraded"
    else:
        status = "ready"
    metrics.READY.set(1 if status != "not_ready" else 0)
    for c in results:
        metrics.READINESS_CHECK.labels(c.name).set(1 if c.ok else 0)
        metrics.READINESS_CHECK_DEGRADED.labels(c.name).set(1 if c.ok and c.state in DEGRADED_STATES else 0)
    return Report(status, results)


class Readiness:
    """One evaluation at a time: callers arriving while one runs share its answer.

    A load balancer, the kubelet and Prometheus may all ask at once; with
    Redis hanging, that must not pile up one stuck ping per request.
    """

    def __init__(self, app: web.Application, metrics: Metrics, timeout: float | None = None) -> None:
        self.app = app
        self.metrics = metrics
        self.timeout = timeout
        self.shutting_down = False
        self._running: asyncio.Task[Report] | None = None

    async def report(self) -> Report:
        if self.shutting_down:
            return Report("shutting_down", ())
        if self._running is None or self._running.done():
            timeout = self.timeout if self.timeout is not None else CHECK_TIMEOUT_SECONDS
            self._running = asyncio.ensure_future(evaluate(checks(self.app), self.metrics, timeout))
        return await asyncio.shield(self._running)


READINESS = web.AppKey("readiness", Readiness)


async def readyz(request: web.Request) -> web.Response:
    report = await request.app[READINESS].report()
    return web.json_response(report.as_json(), status=200 if report.ready else 503, headers={"Cache-Control": "no-store"})


def _authorised(request: web.Request, token: str) -> bool:
    given = request.headers.get("Authorization", "").encode()
    return hmac.compare_digest(given, f"Bearer {token}".encode())


async def _refresh_gauges(request: web.Request, runtime: Runtime) -> None:
    try:
        runtime.metrics.ACTIVE_SESSIONS.set(await asyncio.wait_for(runtime.store.count(), COUNT_TIMEOUT_SECONDS))
    except Exception as exc:
        log.warning("could not count sessions for /metrics", extra={"event": "count_failed", "error": type(exc).__name__})
    # The readiness run also refreshes the callback outbox gauges and frontdoor_ready.
    await request.app[READINESS].report()


def _metrics_handler(runtime: Runtime):
    token = runtime.settings.metrics_token

    async def metrics_endpoint(request: web.Request) -> web.Response:
        if token and not _authorised(request, token):
            return web.json_response({"error": "unauthorised"}, status=401, headers={"WWW-Authenticate": "Bearer"})
        await _refresh_gauges(request, runtime)
        encoder, content_type = choose_encoder(request.headers.get("Accept", ""))  # Prometheus text or OpenMetrics
        return web.Response(body=encoder(runtime.metrics.registry), headers={"Content-Type": content_type, "Cache-Control": "no-store"})

    return metrics_endpoint


async def _mark_shutting_down(app: web.Application) -> None:
    app[READINESS].shutting_down = True


def setup(app: web.Application, runtime: Runtime) -> None:
    """Add /readyz and /metrics, the built-in checks and the loop-lag sampler."""
    register_check(app, _named(partial(oncall_checks.store_check, runtime), oncall_checks.STORE))
    register_check(app, _named(partial(oncall_checks.callbacks_check, runtime), oncall_checks.CALLBACKS))
    register_check(app, _named(partial(oncall_checks.config_check, runtime.settings), oncall_checks.CONFIG))
    app[READINESS] = Readiness(app, runtime.metrics)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", _metrics_handler(runtime))
    app.on_shutdown.append(_mark_shutting_down)
    app.cleanup_ctx.append(loop_lag_ctx(runtime.metrics))
