"""Which sinks this deployment delivers to, chosen by configuration. Several at once are fine.

To add a sink: write a class with ``name`` and ``async deliver(request)``
(see :class:`bot.callbacks.base.Sink`) and a builder here that returns it, or
None when its variables are not set, and add the builder to :data:`BUILDERS`.

A request is finished when every sink built here has acknowledged it; each
acknowledgement is kept with the request, so a sink that has it is not sent
it again while another is down.

With no sink configured the list is empty: the callback option is hidden and
the flow gives the number. Only with FRONTDOOR_ENV=development does an empty
list become the terminal sink, with a warning, so a developer can try the
whole flow; production and test never get it from here.
"""

from __future__ import annotations

import logging
from typing import Callable

from bot.callbacks.base import Sink
from bot.callbacks.console_sink import DevelopmentConsoleSink
from bot.callbacks.email_sink import EmailSink, SMTPConfig
from bot.callbacks.webhook_sink import WebhookSink
from bot.config import Settings

log = logging.getLogger(__name__)


def _webhook(s: Settings) -> Sink | None:
    if not s.callback_webhook_url:
        return None
    return WebhookSink(s.callback_webhook_url, s.callback_webhook_secret)


def _email(s: Settings) -> Sink | None:
    config = SMTPConfig.from_settings(s)
    return EmailSink(config) if config else None


def _telegram(s: Settings) -> Sink | None:
    if not (s.telegram_staff_chat_id and s.telegram_token):
        return None  # a staff chat without a token: /readyz names the missing variable
    from bot.callbacks.telegram_sink import TelegramStaffSink  # PTB is imported only when used

    return TelegramStaffSink.from_settings(s)


BUILDERS: tuple[Callable[[Settings], Sink | None], ...] = (_webhook, _email, _telegram)


def sinks_from_settings(settings: Settings) -> list[Sink]:
    sinks = [sink for build in BUILDERS if (sink := build(settings)) is not None]
    names = [s.name for s in sinks]
    if len(set(names)) != len(names):
        raise ValueError(f"two callback sinks share a name: {names}")
    if not sinks and settings.env == "development":
        log.warning(
            "no callback sink is configured: development prints callback requests to this terminal; they reach no one",
            extra={"event": "development_console_sink"},
        )
        sinks.append(DevelopmentConsoleSink())
    return sinks
