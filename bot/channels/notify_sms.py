"""GOV.UK Notify: received texts by callback, replies through its API.

Switched on by ``FRONTDOOR_NOTIFY_API_KEY`` (with the callback token and the
template id). Notify POSTs each received text to ``/sms/notify`` as JSON
(``id``, ``source_number`` without a ``+``, ``message``, ...), authenticated
only by the bearer token we gave it, compared in constant time. Notify
retries a callback up to five times, so its ``id`` is deduplicated.

Replies go out through Notify's API with a template whose whole body is one
personalisation field, ``((body))``; the official client signs each call
with Notify's JWT scheme. The client is synchronous, so each send runs in a
worker thread and the event loop never waits on it. The callback is
answered 200 once the replies are handed to Notify: a send that fails is
logged (without the number) and the person still had the crisis line in the
previous reply.
"""

from __future__ import annotations

import asyncio
import hmac
import logging

from aiohttp import web
from notifications_python_client.notifications import NotificationsAPIClient

from bot.channels.port import ChannelPort
from bot.channels.sms import SMS, BadSender, SmsConversation, SmsIn

log = logging.getLogger(__name__)

PATH = "/sms/notify"
CHANNEL = SMS


def setup(app: web.Application, port: ChannelPort) -> None:
    if not port.settings.notify_api_key:
        return
    app.router.add_post(PATH, NotifyWebhook(port).handle)


class NotifyWebhook:
    def __init__(self, port: ChannelPort) -> None:
        s = port.settings
        self.rejected = port.metrics.WEBHOOK_REJECTIONS
        self.expected = f"Bearer {s.notify_callback_token}".encode()
        self.client = NotificationsAPIClient(s.notify_api_key, base_url=s.notify_base_url, timeout=10)
        self.template = s.notify_template_id
        self.conversation = SmsConversation(port, "notify")

    async def handle(self, request: web.Request) -> web.Response:
        given = request.headers.get("Authorization", "").encode()
        if not hmac.compare_digest(given, self.expected):
            self.rejected.labels("sms_notify", "signature").inc()
            raise web.HTTPForbidden(text="bad token")
        try:
            body = await request.json()
        except Exception:
            self.rejected.labels("sms_notify", "malformed").inc()
            raise web.HTTPBadRequest(text="expected JSON") from None
        if not isinstance(body, dict) or not isinstance(body.get("source_number"), str) or not isinstance(body.get("message", ""), str):
            self.rejected.labels("sms_notify", "malformed").inc()
            raise web.HTTPBadRequest(text="expected source_number and message")
        sms = SmsIn(sender=body["source_number"], text=body.get("message", ""), message_id=str(body.get("id", "")))
        try:
            replies = await self.conversation.handle(sms)
        except BadSender:
            self.rejected.labels("sms_notify", "sender").inc()
            raise web.HTTPBadRequest(text="unreadable sender") from None
        to = "+" + sms.sender.lstrip("+")
        for reply in replies:
            try:
                await asyncio.to_thread(self.client.send_sms_notification, phone_number=to, template_id=self.template, personalisation={"body": reply.text})
            except Exception as exc:
                log.error("notify send failed", extra={"event": "sms_send_failed", "provider": "notify", "error": type(exc).__name__})
                break
        return web.json_response({"ok": True})
