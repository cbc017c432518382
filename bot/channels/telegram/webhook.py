"""``POST /telegram/webhook``: the door Telegram knocks on.

In order, and cheap before dear:

1. The secret header must match FRONTDOOR_TELEGRAM_WEBHOOK_SECRET (compared
   in constant time). If not: 403, and nothing else happens: the body is not
   read, nothing is queued, no session is touched.
2. The body must be JSON for one update (an object with an integer
   ``update_id``) and no bigger than the server's limit: otherwise 400 (or
   413), never a 500 and never a stack trace.
3. The update is queued for PTB's application and the answer is 200 at once,
   so Telegram moves on. Unknown update types are accepted and ignored.

While the bot is still starting (Telegram not yet reached) or the queue is
very long, the answer is 503 and Telegram delivers the update again later:
updates are never dropped here.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Awaitable, Callable

from aiohttp import web
from telegram import Update
from telegram.ext import Application

from bot.metrics import Metrics

log = logging.getLogger(__name__)

PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_QUEUED = 10_000
ENDPOINT = "telegram"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _bytes(value: str) -> bytes:
    return value.encode("utf-8", "surrogateescape")


def make_handler(application: Application, secret: str, ready: Callable[[], bool], metrics: Metrics) -> Handler:
    expected = _bytes(secret)

    async def telegram_webhook(request: web.Request) -> web.StreamResponse:
        given = request.headers.get(SECRET_HEADER, "")
        if not expected or not hmac.compare_digest(_bytes(given), expected):
            metrics.WEBHOOK_REJECTIONS.labels(ENDPOINT, "signature").inc()
            return web.json_response({"error": "forbidden"}, status=403)
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            metrics.WEBHOOK_REJECTIONS.labels(ENDPOINT, "too_large").inc()
            return web.json_response({"error": "update too large"}, status=413)
        update = _parse(body, application)
        if update is None:
            metrics.WEBHOOK_REJECTIONS.labels(ENDPOINT, "malformed").inc()
            return web.json_response({"error": "not a Telegram update"}, status=400)
        if not ready() or application.update_queue.qsize() >= MAX_QUEUED:
            return web.json_response({"error": "not ready, send again later"}, status=503, headers={"Retry-After": "5"})
        application.update_queue.put_nowait(update)
        return web.Response(status=200)

    return telegram_webhook


def _parse(body: bytes, application: Application) -> Update | None:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        # RecursionError: a body of ~30,000 nested arrays fits under the size
        # limit and exhausts the decoder's stack; it is malformed, not our fault.
        return None
    if not isinstance(data, dict) or type(data.get("update_id")) is not int:
        return None
    try:
        return Update.de_json(data, application.bot)
    except Exception as exc:
        # A well-formed envelope with a body PTB can't read (wrong types inside).
        log.info("telegram update could not be read", extra={"event": "telegram_malformed", "error": type(exc).__name__})
        return None
