"""Twilio: ``POST /sms/twilio``, signature-checked with Twilio's own validator, answered with TwiML.

Switched on by ``FRONTDOOR_TWILIO_AUTH_TOKEN``. The signature covers the URL
Twilio called; behind a TLS-terminating proxy that is not the URL we see, so
``FRONTDOOR_PUBLIC_URL`` + the path is checked when set. A missing or wrong
signature gets 403 and nothing else happens: no session, no reply.
"""

from __future__ import annotations

import hmac
import logging

from xml.sax.saxutils import escape

from aiohttp import web
from twilio.request_validator import RequestValidator

from bot.channels.port import ChannelPort
from bot.channels.sms import SMS, BadSender, SmsConversation, SmsIn

log = logging.getLogger(__name__)

PATH = "/sms/twilio"
CHANNEL = SMS


def setup(app: web.Application, port: ChannelPort) -> None:
    if not port.settings.twilio_auth_token:
        return
    app.router.add_post(PATH, TwilioWebhook(port).handle)


def twiml(texts: list[str]) -> web.Response:
    """TwiML with one <Message> per reply. Built with the standard library's XML escaping:
    twilio's MessagingResponse builds an element tree per message, which cost more than
    the whole conversation step in the benchmark, for the same bytes."""
    body = "".join(f"<Message>{escape(text)}</Message>" for text in texts)
    return web.Response(text=f'<?xml version="1.0" encoding="UTF-8"?><Response>{body}</Response>', content_type="application/xml")


class TwilioWebhook:
    def __init__(self, port: ChannelPort) -> None:
        self.port = port
        self.rejected = port.metrics.WEBHOOK_REJECTIONS
        self.validator = RequestValidator(port.settings.twilio_auth_token)
        self.public_url = port.settings.public_url.rstrip("/")
        self.conversation = SmsConversation(port, "twilio")

    def _url(self, request: web.Request) -> str:
        if self.public_url:
            return self.public_url + request.path_qs
        return str(request.url)

    def _valid(self, url: str, params: dict[str, str], signature: str) -> bool:
        """Twilio's own check. Its ``validate`` always computes two signatures (the URL with
        and without a port); the exact URL is tried first, so a genuine request costs one."""
        if hmac.compare_digest(self.validator.compute_signature(url, params).encode(), signature.encode()):
            return True
        return self.validator.validate(url, params, signature)

    async def handle(self, request: web.Request) -> web.Response:
        try:
            form = await request.post()
        except Exception:
            self.rejected.labels("sms_twilio", "malformed").inc()
            raise web.HTTPBadRequest(text="unreadable form") from None
        params = {k: v for k, v in form.items() if isinstance(v, str)}
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature or not self._valid(self._url(request), params, signature):
            self.rejected.labels("sms_twilio", "signature").inc()
            raise web.HTTPForbidden(text="bad signature")
        sms = SmsIn(sender=params.get("From", ""), text=params.get("Body", ""), message_id=params.get("MessageSid", ""), opt_out=params.get("OptOutType", ""))
        try:
            replies = await self.conversation.handle(sms)
        except BadSender:
            self.rejected.labels("sms_twilio", "sender").inc()
            raise web.HTTPBadRequest(text="unreadable sender") from None
        except Exception:
            log.exception("sms message failed", extra={"event": "sms_failed", "provider": "twilio"})
            return twiml([self.port.fallback(self.port.language_of(sms.text)).text])
        return twiml([r.text for r in replies])
