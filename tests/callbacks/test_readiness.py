"""The real callback service behind the on-call view's `callbacks` readiness check."""

from __future__ import annotations

from types import SimpleNamespace

from bot.callbacks.outbox_sqlite import SQLiteOutbox
from bot.config import load
from bot.metrics import Metrics
from bot.web.oncall_checks import callbacks_check
from tests.callbacks.conftest import MemorySink, details, service
from tests.callbacks.test_unwritable import read_only
from tests.support import eventually


def runtime(tmp_path, svc, alert: str = "300"):
    settings = load({"FRONTDOOR_ENV": "test", "FRONTDOOR_DATA_DIR": str(tmp_path), "FRONTDOOR_CALLBACK_ALERT_SECONDS": alert})
    return SimpleNamespace(callbacks=svc, settings=settings, metrics=Metrics())


async def test_ready_then_overdue_then_ready_again(tmp_path):
    sink = MemorySink(failing=True)
    svc = service(SQLiteOutbox.in_folder(tmp_path), [sink], alert_seconds=10)
    clock = {"now": 1_000_000.0}
    svc.clock = svc.dispatcher.clock = lambda: clock["now"]
    await svc.start()
    try:
        check = await callbacks_check(runtime(tmp_path, svc, "10"))
        assert (check.ok, check.state, check.detail["sinks"], check.detail["outbox"]) == (True, "ok", "memory", "sqlite")
        await svc.submit(details())
        await eventually(lambda: sink.attempts >= 1)
        clock["now"] += 11  # the request has waited past the alert threshold
        check = await callbacks_check(runtime(tmp_path, svc, "10"))
        assert (check.ok, check.state, check.detail["waiting"]) == (True, "overdue", 1)
        assert check.detail["dispatcher"] == "running"
        sink.failing = False
        await eventually(lambda: sink.received)
        await eventually(lambda: svc.dispatcher.delivered == 1)
        check = await callbacks_check(runtime(tmp_path, svc, "10"))
        assert (check.ok, check.state, check.detail["waiting"]) == (True, "ok", 0)
    finally:
        await svc.stop()


async def test_outbox_that_cannot_be_written_is_not_ready(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    svc = service(SQLiteOutbox.in_folder(folder), [MemorySink()])
    with read_only(folder):
        check = await callbacks_check(runtime(tmp_path, svc))
    assert (check.ok, check.state, check.detail["outbox_writable"]) == (False, "outbox_down", False)
    await svc.stop()
