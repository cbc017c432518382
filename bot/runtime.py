"""Assembling the bot from its configuration: the one place that wires the layers.

Starlette-style: everything is built in one factory from :class:`Settings`,
nothing by import side effects. ``frontdoor serve``, ``frontdoor chat`` and
the tests all call :func:`open_runtime`, so the terminal chat runs exactly the
path a Telegram or SMS message takes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from typing import Callable

from bot.callbacks.base import CallbackService
from bot.channels.port import ChannelPort, ClearRecords
from bot.checks import CheckFn
from bot.config import Settings
from bot.conversation.engine import Engine, EngineOptions
from bot.conversation.events import Channel
from bot.conversation.flow import Flow, default_flows_dir, load_flow
from bot.conversation.flowcheck import crisis_path_reviewed
from bot.gateway import Gateway
from bot.identity import Sealer
from bot.metrics import DEFAULT, Metrics
from bot.stores.base import SessionStore
from bot.stores.clear_records import open_clear_records

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    store: SessionStore
    callbacks: CallbackService | None
    gateway: Gateway
    sealer: Sealer
    metrics: Metrics
    records: ClearRecords

    def key(self, channel: str, raw_id: str) -> str:
        """The session key for a raw chat id or phone number: a keyed hash, never the raw id."""
        return self.gateway.key(Channel(channel), raw_id)

    def port(self, channel: Channel, add_check: Callable[[CheckFn], None] = lambda check: None) -> ChannelPort:
        """The narrow view of the bot that the adapter for ``channel`` gets (see bot/channels/port.py)."""
        return ChannelPort(channel, self.settings, self.metrics, self.sealer, self.records, self.gateway, self.engine, add_check)

    async def start(self) -> None:
        """Start background work (the callback dispatcher)."""
        start = getattr(self.callbacks, "start", None)
        if start is not None:
            await start()

    async def close(self) -> None:
        stop = getattr(self.callbacks, "stop", None)
        if stop is not None:
            await stop()
        await self.records.close()
        await self.store.close()


def offered_languages(configured: tuple[str, ...] | None, flow: Flow) -> tuple[str, ...]:
    """What FRONTDOOR_LANGUAGES asks for; unset, Welsh only once its crisis path is reviewed.

    A wrong word in a crisis message is a hazard (H16 in docs/SAFETY.md), so draft
    Welsh is never switched on by default. Switching it on by hand is allowed (a
    pilot with a Welsh-speaking reviewer at hand) and is logged as a warning.
    """
    reviewed = crisis_path_reviewed(flow)
    if configured is None:
        return ("en", "cy") if reviewed else ("en",)
    if "cy" in configured and not reviewed:
        log.warning("Welsh is on, but some Welsh texts on the crisis path are still drafts awaiting review", extra={"event": "welsh_drafts_offered"})
    return configured


async def open_runtime(
    settings: Settings, *, store: SessionStore | None = None, callbacks: CallbackService | None = None, metrics: Metrics | None = None
) -> Runtime:
    """Build the engine, the session store, the callback service and the gateway.

    ``metrics`` is the set to count into (a test passes a fresh one to read exact counts).
    """
    metrics = metrics or DEFAULT
    from bot.callbacks.service import open_callback_service
    from bot.stores import open_session_store

    if callbacks is None:
        callbacks = await open_callback_service(settings, metrics=metrics)
    if store is None:
        store = await open_session_store(settings)
    available = bool(callbacks is not None and callbacks.available)
    if not available and not getattr(callbacks, "unavailable_reason", ""):  # a configured sink that can't work logged its own error
        log.warning("no callback sink is configured: the callback option is hidden", extra={"event": "no_callback_sink"})
    flows_dir = settings.flows_dir or default_flows_dir()
    flow = load_flow(flows_dir)
    engine = Engine.from_dir(
        flows_dir,
        EngineOptions(
            idle_seconds=settings.session_idle_seconds,
            callback_available=available,
            allow_fictional_numbers=settings.allow_fictional_numbers,
            languages=offered_languages(settings.languages, flow),
        ),
        flow=flow,
    )
    if engine.triage.model is None:
        # The rules still triage every message; the on-call team should know the second layer is off.
        log.error("triage learned layer could not load: triaging on the rules alone", extra={"event": "triage_model_unavailable"})
    gateway = Gateway(engine, store, callbacks, rate_limit_per_minute=settings.rate_limit_per_minute, secret=settings.hash_secret, metrics=metrics)
    return Runtime(settings, engine, store, callbacks, gateway, Sealer(settings.hash_secret), metrics, open_clear_records(settings.redis_url))
