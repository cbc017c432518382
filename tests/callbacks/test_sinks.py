"""The signed webhook sink and the email sink, against real local servers (aiohttp, aiosmtpd)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import ssl

import pytest
from aiohttp import web
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from bot.callbacks.base import CallbackRequest
from bot.callbacks.email_sink import EmailRejected, EmailSink, SMTPConfig
from bot.callbacks.webhook_sink import WebhookRejected, WebhookSink, signature
from tests.callbacks.conftest import PHONE, PHONE_DIGITS, SECRET, details
from tests.support import free_port

REQUEST = CallbackRequest("2f1c9a1e-0000-4000-8000-000000000001", 1_790_000_000.0, details(name="Sam"))


# --- webhook ---------------------------------------------------------------------------


async def test_webhook_posts_the_documented_json_signed(receiver):
    sink = WebhookSink(receiver.url, SECRET)
    await sink.deliver(REQUEST)
    await sink.close()
    body, headers = receiver.bodies[0], receiver.headers[0]
    assert json.loads(body) == {
        "id": REQUEST.id, "created_at": "2026-09-21T14:13:20Z", "phone": PHONE, "window": "as soon as possible",
        "voicemail_ok": True, "say_who_is_calling": False, "name": "Sam", "channel": "telegram",
    }
    ts = headers["Frontdoor-Timestamp"]
    expected = "sha256=" + hmac.new(SECRET.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert headers["Frontdoor-Signature"] == expected == signature(SECRET, ts, body)
    assert headers["Idempotency-Key"] == REQUEST.id and headers["Content-Type"] == "application/json"


async def test_webhook_leaves_out_a_name_not_given(receiver):
    sink = WebhookSink(receiver.url, SECRET)
    await sink.deliver(CallbackRequest("r", 0.0, details()))
    await sink.close()
    assert "name" not in json.loads(receiver.bodies[0])


@pytest.mark.parametrize("status", [301, 400, 404, 500, 503])
async def test_anything_but_2xx_is_not_delivered_and_the_error_holds_no_number(status):
    async def answer(request):
        return web.Response(status=status, headers={"Location": "http://127.0.0.1:9/elsewhere"} if status == 301 else {})

    app = web.Application()
    app.router.add_post("/cb", answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    sink = WebhookSink(f"http://127.0.0.1:{port}/cb", SECRET)
    try:
        with pytest.raises(WebhookRejected) as err:
            await sink.deliver(REQUEST)
        assert str(status) in str(err.value) and PHONE_DIGITS.decode() not in str(err.value)
    finally:
        await sink.close()
        await runner.cleanup()


async def test_webhook_refused_raises():
    sink = WebhookSink(f"http://127.0.0.1:{free_port()}/cb", SECRET)
    with pytest.raises(OSError):
        await sink.deliver(REQUEST)
    await sink.close()


# --- email -----------------------------------------------------------------------------


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.refuse = False

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse:
            return "550 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted"


def self_signed(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cafile=str(cert_file))
    return server, client


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"frontdoor" and auth_data.password == b"mail-password"
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp_server(tmp_path):
    server_tls, client_tls = self_signed(tmp_path)
    box = Mailbox()
    controller = Controller(
        box, hostname="127.0.0.1", port=free_port(), tls_context=server_tls, require_starttls=True,
        authenticator=authenticator, auth_require_tls=True,
    )
    controller.start()
    yield box, controller.port, client_tls
    controller.stop()


def config(port: int, **extra) -> SMTPConfig:
    opts = dict(host="127.0.0.1", port=port, sender="frontdoor@example.org", to="crisis-team@example.org",
                username="frontdoor", password="mail-password", starttls=True, timeout=5.0)
    opts.update(extra)
    return SMTPConfig(**opts)


async def test_email_over_starttls_with_login(smtp_server):
    box, port, client_tls = smtp_server
    await EmailSink(config(port), ssl_context=client_tls).deliver(REQUEST)
    (sender, rcpts, content), = box.messages
    assert sender == "frontdoor@example.org" and rcpts == ["crisis-team@example.org"]
    text = content.decode()
    assert f"Message-ID: <{REQUEST.id}@frontdoor.callback>" in text
    subject = next(line for line in text.splitlines() if line.startswith("Subject:"))
    assert REQUEST.id in subject and "7700" not in subject  # the number stays out of the subject
    assert "07700 900123" in text and "Name given: Sam" in text and "as soon as possible" in text


async def test_email_refuses_a_certificate_it_cannot_check(smtp_server):
    _, port, _ = smtp_server
    with pytest.raises(ssl.SSLError):
        await EmailSink(config(port)).deliver(REQUEST)  # the system trust store doesn't know our test CA


async def test_email_wrong_password_and_refused_recipient(smtp_server):
    box, port, client_tls = smtp_server
    with pytest.raises(EmailRejected, match="535"):
        await EmailSink(config(port, password="wrong"), ssl_context=client_tls).deliver(REQUEST)
    box.refuse = True
    with pytest.raises(EmailRejected) as err:
        await EmailSink(config(port), ssl_context=client_tls).deliver(REQUEST)
    assert "7700" not in str(err.value)
    assert box.messages == []


async def test_email_will_not_send_in_clear_when_starttls_is_required():
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())  # no TLS offered
    controller.start()
    try:
        with pytest.raises(EmailRejected):
            await EmailSink(config(controller.port, username="")).deliver(REQUEST)
        assert box.messages == []
        await EmailSink(config(controller.port, username="", starttls=False)).deliver(REQUEST)  # local test server only
        assert len(box.messages) == 1
    finally:
        controller.stop()


async def test_email_server_down_raises():
    with pytest.raises(OSError):
        await EmailSink(config(free_port())).deliver(REQUEST)


async def test_the_service_delivers_to_email_and_webhook_together_once_each(tmp_path, receiver):
    from bot.callbacks.outbox_sqlite import SQLiteOutbox
    from tests.callbacks.conftest import service
    from tests.support import eventually

    box = Mailbox()
    port = free_port()
    email = EmailSink(config(port, username="", starttls=False))
    webhook = WebhookSink(receiver.url, SECRET)
    svc = service(SQLiteOutbox.in_folder(tmp_path), [email, webhook])
    await svc.start()
    try:
        rid = await svc.submit(details())  # the mail server is down at first
        await eventually(lambda: receiver.ids() == [rid])
        controller = Controller(box, hostname="127.0.0.1", port=port)
        controller.start()
        try:
            await eventually(lambda: svc.dispatcher.delivered == 1)
        finally:
            controller.stop()
        assert len(box.messages) == 1 and receiver.ids() == [rid]  # the webhook was not sent it again
    finally:
        await svc.stop()
