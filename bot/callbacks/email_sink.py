"""Callback sink: email each request to the crisis team's secure mailbox over SMTP.

STARTTLS is required unless FRONTDOOR_SMTP_STARTTLS=false (a local test
server only): the connection is upgraded, with the server's certificate
checked against the system's trust store, before any login or message. The
stdlib ``smtplib`` runs in a daemon thread of its own, one connection per
delivery (requests are rare, so a pool would buy nothing); a daemon thread,
not the event loop's executor, because a server that stalls must not hold the
process past its shutdown budget: the request stays in the outbox anyway.

The subject carries only the reference, never the number (mail systems log
subjects). ``Message-ID`` is derived from the request id, so a mailbox or
rule that sees the same request twice can tell. Delivery means the server
accepted the message for every recipient; errors carry SMTP codes only.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import formatdate

from bot.callbacks.base import CallbackRequest
from bot.config import Settings
from bot.conversation.phone import format_national


class EmailRejected(Exception):
    """The SMTP server refused the message or the login (codes only)."""


@dataclass(frozen=True)
class SMTPConfig:
    host: str
    port: int
    sender: str
    to: str
    username: str = ""
    password: str = ""
    starttls: bool = True
    timeout: float = 15.0

    @classmethod
    def from_settings(cls, s: Settings) -> "SMTPConfig | None":
        if not s.smtp_host:
            return None
        return cls(s.smtp_host, s.smtp_port, s.smtp_from, s.smtp_to, s.smtp_username, s.smtp_password, s.smtp_starttls)


def team_text(request: CallbackRequest) -> str:
    """The email body: plain English, only what a call back needs."""
    d = request.details
    created = datetime.fromtimestamp(request.created_at, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"New call back request (ref {request.id})",
        "",
        f"Number: {format_national(d.phone)} ({d.phone})",
        f"When: {d.window}",
        f"Voicemail OK: {'yes' if d.voicemail_ok else 'no'}",
        f"Say they are from the crisis line: {'yes' if d.say_who_is_calling else 'no'}",
        f"Came in by: {d.channel}",
    ]
    if d.name:
        lines.append(f"Name given: {d.name}")
    lines += [f"Requested: {created}", "", "Sent by Frontdoor. The same ref may arrive twice: call once."]
    return "\n".join(lines)


def build_message(request: CallbackRequest, config: SMTPConfig) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = f"Call back request {request.id}"
    msg["From"] = config.sender
    msg["To"] = config.to
    msg["Date"] = formatdate(request.created_at, usegmt=True)
    msg["Message-ID"] = f"<{request.id}@frontdoor.callback>"
    msg.set_content(team_text(request))
    return msg


class EmailSink:
    name = "email"

    def __init__(self, config: SMTPConfig, *, ssl_context: ssl.SSLContext | None = None) -> None:
        self.config = config
        self._ssl = ssl_context or ssl.create_default_context()

    async def deliver(self, request: CallbackRequest) -> None:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        msg = build_message(request, self.config)

        def run() -> None:
            outcome: BaseException | None = None
            try:
                self._send(msg)
            except BaseException as exc:  # handed to the waiting coroutine
                outcome = exc
            try:
                loop.call_soon_threadsafe(_settle, done, outcome)
            except RuntimeError:  # the loop has closed: the process is exiting
                pass

        threading.Thread(target=run, name="callback-email", daemon=True).start()
        await done

    def _send(self, msg: EmailMessage) -> None:
        c = self.config
        try:
            with smtplib.SMTP(c.host, c.port, timeout=c.timeout) as smtp:
                smtp.ehlo()
                if c.starttls:
                    smtp.starttls(context=self._ssl)  # raises SMTPNotSupportedError if the server can't
                    smtp.ehlo()
                if c.username:
                    smtp.login(c.username, c.password)
                refused = smtp.send_message(msg)
        except smtplib.SMTPResponseException as exc:
            raise EmailRejected(f"the SMTP server answered {exc.smtp_code}") from None
        except smtplib.SMTPRecipientsRefused:
            raise EmailRejected("the SMTP server refused the recipient") from None
        except smtplib.SMTPException as exc:
            raise EmailRejected(f"SMTP failed: {type(exc).__name__}") from None
        if refused:
            raise EmailRejected("the SMTP server refused a recipient")


def _settle(future: "asyncio.Future[None]", exc: BaseException | None) -> None:
    if future.done():  # the dispatcher gave up waiting
        return
    if exc is None:
        future.set_result(None)
    else:
        future.set_exception(exc)
