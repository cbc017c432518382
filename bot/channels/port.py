"""The port: everything a channel may use of the bot, and nothing else.

A channel adapter (Telegram, SMS, web chat, the terminal) knows its own
payloads and its provider's rules. What it may reach of the rest is this
narrow object, built per channel by :meth:`bot.runtime.Runtime.port`:

* the conversation, through the gateway: :meth:`handle` a message (with the
  provider's message id, so a retry is answered once), :meth:`end` a
  session, :meth:`seen_once` for what must be dropped before a message is
  handled, :meth:`allow` for a channel's own limits (new web chat sockets);
* the channel's session :meth:`key` (a keyed hash of a raw id) and a
  :attr:`sealer` for what it must reach later (Telegram's idle message);
* typed standalone messages (:class:`Says`) and the localised
  :meth:`fallback`, so no channel keeps its own English copy;
* its settings, its metrics (for what never reaches the gateway: a refused
  webhook), :meth:`add_check` for readiness, and the Telegram clear records.

No channel imports ``bot.runtime``, a store or ``bot.web``, and none walks the
flow by string id (tests/test_layering.py holds this). The rules that hold
for every channel (triage, duplicates, the per-person rate limit, the
fallback reply, counting) are the gateway's, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Callable, Protocol

from bot.checks import CheckFn
from bot.config import Settings
from bot.conversation.engine import Engine
from bot.conversation.events import Channel, Inbound, Option, Reply
from bot.gateway import Delivery, Gateway, IdleListener
from bot.identity import Sealer, keyed_hash
from bot.metrics import Metrics

__all__ = ["ChannelPort", "ClearRecords", "Delivery", "Says"]


class ClearRecords(Protocol):
    """Telegram message ids kept briefly after a session ends, for "delete this conversation"."""

    async def add(self, key: str, message_ids: tuple[int, ...]) -> None:
        """Keep these ids for ``key`` (adding to any kept already) for the TTL."""

    async def take(self, key: str) -> tuple[int, ...]:
        """The ids kept for ``key``, removing the record. Empty if none or expired."""

    async def close(self) -> None: ...


class Says(str, Enum):
    """The standalone messages a channel may send, by their id in flows/ (the flow check knows them)."""

    IDLE_CLEARED = "idle_cleared"
    CHAT_CLEARED = "chat_cleared"
    CONTACT_CARD_NAME = "contact_card_name"
    PRIVATE_ONLY = "private_only"
    PRIVATE_ONLY_BUTTON = "private_only_button"
    RATE_LIMITED = "rate_limited"


CLEAR_OPTION = "clear_chat"  # the flow's option that deletes the conversation (Telegram)


@dataclass(frozen=True, eq=False)
class ChannelPort:
    channel: Channel
    settings: Settings
    metrics: Metrics
    sealer: Sealer
    records: ClearRecords
    _gateway: Gateway
    _engine: Engine
    _add_check: Callable[[CheckFn], None]

    # --- the conversation -------------------------------------------------------------

    def key(self, raw_id: str) -> str:
        """The session key for a raw chat id, phone number or token (a keyed hash)."""
        return self._gateway.key(self.channel, raw_id)

    async def handle(self, key: str, inbound: Inbound, *, message_id: str = "", reach: str = "", message_ids: tuple[int, ...] = ()) -> Delivery:
        return await self._gateway.handle(self.channel, key, inbound, message_id=message_id, reach=reach, message_ids=message_ids)

    async def end(self, key: str, reason: str) -> tuple[int, ...]:
        return await self._gateway.end(key, reason)

    async def remember_sent(self, key: str, message_ids: tuple[int, ...]) -> None:
        await self._gateway.remember_sent(key, message_ids)

    async def seen_once(self, message_id: str) -> bool:
        """True for a provider's retry of a message already taken (across replicas)."""
        return await self._gateway.seen_once(self.channel.value, message_id)

    async def allow(self, name: str, raw: str, limit: int, window: int) -> bool:
        """A channel's own limit (e.g. new sockets per address): False past ``limit`` in ``window``."""
        return await self._gateway.allow(f"{self.channel.value}-{name}:{keyed_hash(self._gateway.secret, raw, length=16)}", limit, window)

    def on_idle(self, listener: IdleListener) -> None:
        self._gateway.on_idle(self.channel, listener)

    # --- words ------------------------------------------------------------------------

    def says(self, message: Says, lang: str = "en") -> Reply:
        return self._engine.standalone(message.value, lang, self.channel)

    def fallback(self, lang: str = "en") -> Reply:
        """Sorry, and the number: when something of the channel's own broke."""
        return self._gateway.fallback(self.channel, lang)

    def language_of(self, text: str) -> str:
        """The language a message reads as (for answers made without a session)."""
        return self._engine.guess_language(text)

    def clear_option(self, lang: str) -> Option | None:
        """The flow's own "delete this conversation" button, for Telegram's idle closing message."""
        return self._engine.option(CLEAR_OPTION, lang)

    # --- the on-call view ---------------------------------------------------------------

    def add_check(self, check: CheckFn) -> None:
        self._add_check(check)
