"""The gateway: the one path every channel calls with a verified, parsed message.

A channel adapter knows its payloads; the engine knows the conversation; the
gateway joins them, the same way for every channel:

    drop a provider's retry -> rate limit by the person -> lock the session
    and load it -> engine.handle -> carry out the engine's actions (submit a
    callback, withdraw one) -> save or wipe, and unlock

(on Redis that is two round trips: :mod:`bot.stores.base` says how), and
it counts every message, once, whatever the channel. It is also where
failure is turned into an answer. Whatever breaks below it (a
store that is down, an outbox that can't be written, a bug) the person still
gets a reply with 0300 131 2789 and 999: the emergency reply if what they
wrote signals danger, otherwise a short apology with the number. Nothing here
logs, counts or keeps what anyone wrote.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from typing import Awaitable, Callable

from bot.callbacks.base import CallbackService, OutboxUnavailable
from bot.conversation.engine import Engine
from bot.conversation.events import (
    Action,
    CancelCallback,
    Channel,
    ClearChat,
    CountFeedback,
    CountUrgent,
    EndSession,
    Inbound,
    InboundKind,
    Reply,
    SendContactCard,
    SubmitCallback,
)
from bot.conversation.session import Session
from bot.identity import keyed_hash, session_key
from bot.metrics import DEFAULT, Metrics
from bot.stores.base import SessionStore, StoreUnavailable

log = logging.getLogger(__name__)

RATE_WINDOW_SECONDS = 60
DEDUPE_SECONDS = 24 * 3600  # providers retry for minutes to hours; a day covers them all
IdleListener = Callable[[str, Session], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Delivery:
    """What a channel must do after one message.

    ``replies`` are sent in order (empty when the sender is rate limited and has
    had their one notice). ``actions`` are the ones only a channel can carry out:
    :class:`SendContactCard`, :class:`ClearChat` and :class:`EndSession`.
    ``message_ids`` is the session's Telegram message ids, handed over when the
    chat is cleared or ended, because the session that held them is gone.
    """

    replies: tuple[Reply, ...] = ()
    actions: tuple[Action, ...] = ()
    message_ids: tuple[int, ...] = ()
    degraded: bool = False
    duplicate: bool = False  # the provider sent this message before; it was answered then

    @property
    def ended(self) -> bool:
        return any(isinstance(a, EndSession) for a in self.actions)

    def wants(self, kind: type) -> bool:
        return any(isinstance(a, kind) for a in self.actions)


@dataclass
class Gateway:
    engine: Engine
    store: SessionStore
    callbacks: CallbackService | None = None
    rate_limit_per_minute: int = 10
    clock: Callable[[], float] = time.time
    secret: bytes = field(default_factory=lambda: os.urandom(32), repr=False)
    metrics: Metrics = DEFAULT
    idle_listeners: dict[str, IdleListener] = field(default_factory=dict)

    def key(self, channel: Channel, raw_id: str) -> str:
        """The session key for a raw chat id, phone number or token: a keyed hash, never the raw id."""
        return session_key(self.secret, channel.value, raw_id)

    async def handle(
        self,
        channel: Channel,
        key: str,
        inbound: Inbound,
        *,
        message_id: str = "",
        reach: str = "",
        message_ids: tuple[int, ...] = (),
    ) -> Delivery:
        """Handle one message from the person behind ``key`` (a keyed hash, never a raw id).

        ``message_id`` is the provider's id for the message: a retry of one
        already answered gets nothing (``Delivery.duplicate``). ``reach`` is a
        sealed token the channel can use later to send the idle closing
        message; ``message_ids`` are ids to remember for "clear this chat".
        """
        started = time.perf_counter()
        m = self.metrics
        try:
            delivery = await self._handle(channel, key, inbound, message_id, reach, message_ids)
        except StoreUnavailable:
            m.DEGRADED_REPLIES.labels("store").inc()
            log.warning("session store unavailable; answered in degraded mode", extra={"event": "degraded", "channel": channel.value})
            delivery = self._degraded(channel, inbound)
        except Exception:
            m.DEGRADED_REPLIES.labels("error").inc()
            log.exception("message failed; answered in degraded mode", extra={"event": "degraded", "channel": channel.value})
            delivery = self._degraded(channel, inbound)
        if delivery.duplicate:
            m.DUPLICATES.labels(channel.value).inc()
            return delivery
        m.MESSAGES_IN.labels(channel.value).inc()
        m.REPLY_LATENCY.labels(channel.value).observe(time.perf_counter() - started)
        m.MESSAGES_OUT.labels(channel.value).inc(len(delivery.replies))
        return delivery

    async def _handle(self, channel: Channel, key: str, inbound: Inbound, message_id: str, reach: str, message_ids: tuple[int, ...]) -> Delivery:
        seen = self._seen_name(channel.value, message_id) if message_id else ""
        turn = await self.store.begin(key, limit=self.rate_limit_per_minute, window=RATE_WINDOW_SECONDS, seen=seen, seen_ttl=DEDUPE_SECONDS)
        if turn.duplicate:
            return Delivery(duplicate=True)
        if not turn.admitted:
            return self._limited(channel, inbound, turn.count)
        try:
            now = self.clock()
            session = turn.session or self.engine.new_session(now)
            outcome = self.engine.handle(session, inbound, now)
            replies = list(outcome.replies)
            actions = list(outcome.actions)
            while (pending := outcome.pending) is not None:
                result, request_id = await self._carry_out(pending)
                outcome = self.engine.resolve(session, result, now, request_id=request_id)
                replies += outcome.replies
                actions += outcome.actions
        except BaseException:
            await self.store.release(turn)
            raise
        self._count(actions)
        ids: tuple[int, ...] = ()
        ended = any(isinstance(a, EndSession) for a in actions)
        if ended or any(isinstance(a, ClearChat) for a in actions):
            ids = tuple(session.message_ids) + tuple(message_ids)
        if not ended:
            if any(isinstance(a, ClearChat) for a in actions):
                session.message_ids.clear()
            else:
                session.message_ids.extend(message_ids)
            if reach:
                session.reach = reach
        try:
            await self.store.finish(turn, None if ended else session)
        except StoreUnavailable:
            # The replies are already decided (and a callback may have been written):
            # they still go out. The next message will meet the store's state.
            self.metrics.DEGRADED_REPLIES.labels("store").inc()
            log.warning("session could not be saved", extra={"event": "save_failed"})
        channel_actions = tuple(a for a in actions if isinstance(a, (SendContactCard, ClearChat, EndSession)))
        return Delivery(tuple(replies), channel_actions, ids)

    def _seen_name(self, namespace: str, message_id: str) -> str:
        return keyed_hash(self.secret, f"{namespace}:{message_id}", length=24)

    async def seen_once(self, namespace: str, message_id: str) -> bool:
        """True if this provider message id was seen already (a retry); remembers it a day.

        For what a channel must drop before it reaches :meth:`handle` (an
        opt-out, a Telegram update). If the store is down, False: answering
        twice beats not answering.
        """
        try:
            return await self.store.seen_once(self._seen_name(namespace, message_id), DEDUPE_SECONDS)
        except StoreUnavailable:
            log.warning("duplicate check unavailable; the message is handled", extra={"event": "dedupe_unavailable"})
            return False

    async def allow(self, name: str, limit: int, window: int) -> bool:
        """Count one event under ``name`` (already a keyed hash); False once past ``limit`` in ``window``.

        If the store is down, True: the message itself will meet the degraded reply.
        """
        try:
            return await self.store.hit(name, limit, window) <= limit
        except StoreUnavailable:
            return True

    def fallback(self, channel: Channel, lang: str = "en") -> Reply:
        """The reply for when something of the channel's own broke: sorry, and the number."""
        return self.engine.fallback_reply(lang, channel)

    async def _carry_out(self, action: SubmitCallback | CancelCallback) -> tuple[str, str]:
        if self.callbacks is None or not self.callbacks.available:
            return ("failed" if isinstance(action, SubmitCallback) else "unknown"), ""
        if isinstance(action, SubmitCallback):
            try:
                request_id = await self.callbacks.submit(action.details)
            except OutboxUnavailable:
                self.metrics.CALLBACK_REQUESTS.labels("failed_to_store").inc()
                log.error("callback request could not be stored; the person was told and given the number", extra={"event": "callback_failed"})
                return "failed", ""
            self.metrics.CALLBACK_REQUESTS.labels("accepted").inc()
            return "ok", request_id
        if not action.request_id:
            return "unknown", ""
        result = await self.callbacks.cancel(action.request_id)
        if result == "withdrawn":
            self.metrics.CALLBACK_REQUESTS.labels("withdrawn").inc()
        return result, ""

    def _count(self, actions: list[Action]) -> None:
        for a in actions:
            if isinstance(a, CountUrgent):
                self.metrics.URGENT_TRIAGE.inc()
            elif isinstance(a, CountFeedback):
                self.metrics.FEEDBACK.labels("yes" if a.useful else "no").inc()
            elif isinstance(a, EndSession):
                self.metrics.SESSIONS_ENDED.labels(a.reason).inc()

    def _limited(self, channel: Channel, inbound: Inbound, count: int) -> Delivery:
        """Past the limit: one notice with the number, then silence until the window passes.

        Triage still comes first: a message that signals danger gets the
        emergency reply, up to the limit again, so a flood can't buy silence
        from someone in danger nor run up unbounded cost.
        """
        self.metrics.RATE_LIMITED.labels(channel.value).inc()
        limit = self.rate_limit_per_minute
        lang = self._language(inbound)
        if inbound.kind is InboundKind.TEXT and count <= 2 * limit:
            urgent = self.engine.triage_only(inbound.text, lang, channel)
            if urgent is not None:
                self.metrics.URGENT_TRIAGE.inc()
                return Delivery((urgent,))
        if count == limit + 1:
            return Delivery((self.engine.standalone("rate_limited", lang, channel),))
        return Delivery()

    def _language(self, inbound: Inbound) -> str:
        """Without the session, the language of the message itself (Welsh if it reads as Welsh)."""
        try:
            return self.engine.guess_language(inbound.text) if inbound.kind is InboundKind.TEXT else "en"
        except Exception:  # pragma: no cover - pure code; an answer in English beats none
            return "en"

    def _degraded(self, channel: Channel, inbound: Inbound) -> Delivery:
        reply = None
        lang = self._language(inbound)
        if inbound.kind is InboundKind.TEXT:
            try:
                reply = self.engine.triage_only(inbound.text, lang, channel)
            except Exception:  # pragma: no cover - triage is pure; belt and braces
                reply = None
        return Delivery((reply or self.engine.fallback_reply(lang, channel),), degraded=True)

    # --- sessions ending outside a message ----------------------------------------------

    async def end(self, key: str, reason: str) -> tuple[int, ...]:
        """End a session now (quick exit, opt-out, blocked, shutdown) and wipe it.

        Returns the Telegram message ids it held, for a channel that clears the chat.
        """
        try:
            async with self.store.lock(key):  # a message being handled finishes first, then the wipe
                session = await self.store.load(key)
                await self.store.delete(key)
        except StoreUnavailable:
            log.warning("could not wipe a session: the store is down; its TTL will", extra={"event": "end_failed", "reason": reason})
            return ()
        if session is not None:
            self.metrics.SESSIONS_ENDED.labels(reason).inc()
            return tuple(session.message_ids)
        return ()

    async def remember_sent(self, key: str, message_ids: tuple[int, ...]) -> None:
        """Add the ids of messages the bot just sent (Telegram), for "clear this chat"."""
        if not message_ids:
            return
        try:
            async with self.store.lock(key):
                session = await self.store.load(key)
                if session is not None:
                    session.message_ids.extend(message_ids)
                    await self.store.save(key, session)
        except StoreUnavailable:
            log.warning("could not record sent message ids", extra={"event": "remember_failed"})

    def on_idle(self, channel: Channel, listener: IdleListener) -> None:
        """Call ``listener(key, session)`` for each of this channel's sessions that idles out."""
        self.idle_listeners[channel.value] = listener

    async def reap_idle(self) -> int:
        """End every session idle past the timeout, once across all replicas. Returns how many."""
        idle = await self.store.pop_idle(self.clock(), self.engine.options.idle_seconds)
        for key, session in idle:
            self.metrics.SESSIONS_ENDED.labels("idle").inc()
            listener = self.idle_listeners.get(key.split(":", 1)[0])
            if listener is not None:
                try:
                    await listener(key, session)
                except Exception:
                    log.exception("idle closing message failed", extra={"event": "idle_close_failed"})
        return len(idle)
