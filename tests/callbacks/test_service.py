"""The service as the gateway and runtime see it: submit, cancel, health, and the factory."""

from __future__ import annotations

import asyncio
import io
import logging
import stat

import pytest
from cryptography.fernet import Fernet

from bot.callbacks.base import CallbackRequest, OutboxUnavailable, Sink
from bot.callbacks.console_sink import DevelopmentConsoleSink
from bot.callbacks.email_sink import EmailSink
from bot.callbacks.encryption import KEY_FILE, RequestCipher
from bot.callbacks.outbox_postgres import PostgresOutbox
from bot.callbacks.outbox_sqlite import SQLiteOutbox
from bot.callbacks.service import open_callback_service
from bot.callbacks.webhook_sink import WebhookSink
from bot.config import ConfigError, load
from tests.callbacks.conftest import FAST, PHONE, SECRET, MemorySink, details, service
from tests.support import eventually


def settings(tmp_path, **extra):
    env = {"FRONTDOOR_ENV": "test", "FRONTDOOR_DATA_DIR": str(tmp_path)}
    env.update(extra)
    return load(env)


# --- cancel ----------------------------------------------------------------------------


async def test_cancel_before_delivery_withdraws_and_nothing_is_sent(outbox):
    sink = MemorySink()
    svc = service(outbox, [sink])  # dispatcher not started
    rid = await svc.submit(details())
    assert await svc.cancel(rid) == "withdrawn"
    await svc.start()
    await asyncio.sleep(0.3)
    await svc.stop()
    assert sink.received == []
    assert await svc.cancel(rid) == "unknown"


async def test_cancel_after_delivery_says_delivered(outbox):
    sink = MemorySink()
    svc = service(outbox, [sink])
    await svc.start()
    try:
        rid = await svc.submit(details())
        await eventually(lambda: svc.dispatcher.delivered == 1)
        assert await svc.cancel(rid) == "delivered"
        assert await svc.cancel("not-a-request") == "unknown"
    finally:
        await svc.stop()


async def test_cancel_during_a_delivery_that_fails_withdraws_after_it(outbox):
    sink = MemorySink(delay=0.3, failing=True)
    svc = service(outbox, [sink], backoff_base=30, backoff_cap=30)
    await svc.start()
    try:
        rid = await svc.submit(details())
        await eventually(lambda: sink.attempts == 1)
        assert await svc.cancel(rid) == "withdrawn"  # waited for the attempt: it failed, so nothing was passed on
    finally:
        await svc.stop()
    assert sink.received == []


async def test_cancel_during_a_delivery_that_does_not_settle_says_delivered(outbox):
    sink = MemorySink(delay=0.8)
    svc = service(outbox, [sink], cancel_wait=0.2)
    await svc.start()
    try:
        rid = await svc.submit(details())
        await eventually(lambda: sink.attempts == 1)
        assert await svc.cancel(rid) == "delivered"  # it may be with the team: the person is sent to the line
        await eventually(lambda: sink.ids == [rid])
    finally:
        await svc.stop()


# --- health ----------------------------------------------------------------------------


async def test_health_is_small_and_names_sinks_only(tmp_path):
    webhook = WebhookSink("http://127.0.0.1:9/secret-path", SECRET)
    svc = service(SQLiteOutbox.in_folder(tmp_path), [webhook, MemorySink("email")])
    health = await svc.health()
    assert health == {
        "writable": True, "waiting": 0, "oldest_waiting_seconds": 0.0, "degraded": False,
        "sinks": ["webhook", "email"], "outbox": "sqlite", "dispatcher": "stopped",
    }
    assert "secret" not in repr(health) and "127.0.0.1" not in repr(health)
    await svc.stop()


async def test_no_sink_means_not_available_and_submit_refuses(tmp_path):
    svc = await open_callback_service(settings(tmp_path))
    assert svc.available is False and svc.sink_names == []
    with pytest.raises(OutboxUnavailable):
        await svc.submit(details())
    await svc.start()
    await svc.stop()
    assert not (tmp_path / KEY_FILE).exists()  # no key generated for a hidden option


# --- the factory ------------------------------------------------------------------------


async def test_factory_builds_every_configured_sink(tmp_path):
    svc = await open_callback_service(settings(
        tmp_path,
        FRONTDOOR_CALLBACK_WEBHOOK_URL="http://127.0.0.1:9/cb",
        FRONTDOOR_CALLBACK_WEBHOOK_SECRET=SECRET,
        FRONTDOOR_SMTP_HOST="127.0.0.1", FRONTDOOR_SMTP_FROM="bot@example.org", FRONTDOOR_SMTP_TO="team@example.org",
        FRONTDOOR_TELEGRAM_TOKEN="123:abc", FRONTDOOR_TELEGRAM_STAFF_CHAT_ID="-1007700900555",
    ))
    assert svc.available and svc.sink_names == ["webhook", "email", "telegram"]
    assert all(isinstance(s, Sink) for s in svc.sinks)
    assert isinstance(svc.sinks[1], EmailSink) and isinstance(svc.outbox, SQLiteOutbox)
    await svc.stop()


async def test_staff_chat_without_a_token_is_not_a_sink(tmp_path):
    svc = await open_callback_service(settings(tmp_path, FRONTDOOR_TELEGRAM_STAFF_CHAT_ID="-1007700900555"))
    assert not svc.available


async def test_development_alone_gets_the_console_sink_with_a_warning(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        svc = await open_callback_service(settings(tmp_path, FRONTDOOR_ENV="development"))
    assert [type(s) for s in svc.sinks] == [DevelopmentConsoleSink]
    assert any(getattr(r, "event", "") == "development_console_sink" for r in caplog.records)
    dev_with_webhook = await open_callback_service(settings(
        tmp_path, FRONTDOOR_ENV="development", FRONTDOOR_CALLBACK_WEBHOOK_URL="http://127.0.0.1:9/cb", FRONTDOOR_CALLBACK_WEBHOOK_SECRET=SECRET,
    ))
    assert dev_with_webhook.sink_names == ["webhook"]


async def test_console_sink_never_in_production_or_test(tmp_path):
    key = Fernet.generate_key().decode()
    for env in ("production", "test"):
        s = settings(tmp_path, FRONTDOOR_ENV=env, FRONTDOOR_HASH_SECRET="x" * 32, FRONTDOOR_ENCRYPTION_KEY=key)
        svc = await open_callback_service(s)
        assert svc.sinks == [] and svc.available is False


async def test_console_sink_prints_the_request():
    out = io.StringIO()
    await DevelopmentConsoleSink(out).deliver(CallbackRequest("ref-1", 0.0, details()))
    assert "NOT sent to any crisis team" in out.getvalue() and "07700 900123" in out.getvalue()


async def test_generated_key_is_private_and_warned(tmp_path, caplog):
    s = settings(tmp_path / "data", FRONTDOOR_CALLBACK_WEBHOOK_URL="http://127.0.0.1:9/cb", FRONTDOOR_CALLBACK_WEBHOOK_SECRET=SECRET)
    with caplog.at_level(logging.WARNING):
        first = await open_callback_service(s)
    key_file = tmp_path / "data" / KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert any(getattr(r, "event", "") == "callback_key_generated" for r in caplog.records)
    second = await open_callback_service(s)  # the same key next time: waiting requests still open
    sealed = first.cipher.seal(details())
    assert second.cipher.open(sealed) == details()


async def test_a_bad_key_is_a_config_error_naming_the_variable(tmp_path):
    with pytest.raises(ConfigError, match="FRONTDOOR_ENCRYPTION_KEY") as err:
        await open_callback_service(settings(
            tmp_path, FRONTDOOR_ENCRYPTION_KEY="not-a-key-at-all",
            FRONTDOOR_CALLBACK_WEBHOOK_URL="http://127.0.0.1:9/cb", FRONTDOOR_CALLBACK_WEBHOOK_SECRET=SECRET,
        ))
    assert "not-a-key-at-all" not in str(err.value)


async def test_a_shared_outbox_needs_a_key(tmp_path):
    s = settings(tmp_path, FRONTDOOR_OUTBOX_URL="postgresql://postgres@127.0.0.1:5432/test",
                 FRONTDOOR_CALLBACK_WEBHOOK_URL="http://127.0.0.1:9/cb", FRONTDOOR_CALLBACK_WEBHOOK_SECRET=SECRET)
    with pytest.raises(ConfigError, match="every replica"):
        await open_callback_service(s)
    svc = await open_callback_service(settings(
        tmp_path, FRONTDOOR_OUTBOX_URL="postgresql://postgres@127.0.0.1:5432/test", FRONTDOOR_ENCRYPTION_KEY=Fernet.generate_key().decode(),
        FRONTDOOR_CALLBACK_WEBHOOK_URL="http://127.0.0.1:9/cb", FRONTDOOR_CALLBACK_WEBHOOK_SECRET=SECRET,
    ))
    assert isinstance(svc.outbox, PostgresOutbox)


# --- key rotation -----------------------------------------------------------------------


async def test_rotation_reseals_waiting_requests_under_the_newest_key(outbox):
    old, new = Fernet.generate_key(), Fernet.generate_key()
    sink = MemorySink(failing=True)
    before = service(outbox, [sink], RequestCipher([old]))
    await before.submit(details())
    (_, sealed_old), = await outbox.all_payloads()
    after = service(outbox, [sink], RequestCipher([new, old]), backoff_base=30, backoff_cap=30)
    await after.start()
    await after.stop()
    if outbox.kind == "sqlite":
        await outbox.open()
    (_, sealed_new), = await outbox.all_payloads()
    assert sealed_new != sealed_old
    assert RequestCipher([new]).open(sealed_new) == details()  # the old key can now be dropped


async def test_a_generated_key_is_kept_as_the_oldest_when_a_real_key_arrives(tmp_path):
    hook = dict(FRONTDOOR_CALLBACK_WEBHOOK_URL="http://127.0.0.1:9/cb", FRONTDOOR_CALLBACK_WEBHOOK_SECRET=SECRET)
    dev = await open_callback_service(settings(tmp_path, **hook))
    sealed = dev.cipher.seal(details())
    real = await open_callback_service(settings(tmp_path, FRONTDOOR_ENCRYPTION_KEY=Fernet.generate_key().decode(), **hook))
    assert real.cipher.key_count == 2 and real.cipher.open(sealed).phone == PHONE
    assert not real.cipher.is_newest(sealed)


def test_fast_options_are_real_options():
    assert set(FAST) <= {"backoff_base", "backoff_cap", "lease", "attempt_timeout", "poll_interval", "stop_timeout"}


class LateOutbox:
    """Wraps a real outbox whose writes land only after the service has stopped waiting (a stalled disk)."""

    def __init__(self, inner, delay: float) -> None:
        self.inner, self.delay = inner, delay

    async def add(self, request_id, created_at, payload):
        async def late():
            await asyncio.sleep(self.delay)
            await self.inner.add(request_id, created_at, payload)

        await asyncio.shield(asyncio.create_task(late()))

    def __getattr__(self, name):
        return getattr(self.inner, name)


async def test_a_write_that_lands_after_submit_gave_up_is_taken_back(outbox):
    sink = MemorySink()
    svc = service(LateOutbox(outbox, 0.4), [sink], submit_timeout=0.1)
    svc.take_back_interval = 0.2
    with pytest.raises(OutboxUnavailable):
        await svc.submit(details())  # the person is told it failed...
    await asyncio.sleep(1.2)
    assert (await outbox.backlog()).waiting == 0  # ...so it must not reach the team later
    await svc.start()
    await asyncio.sleep(0.3)
    await svc.stop()
    assert sink.received == []
