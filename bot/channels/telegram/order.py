"""Per-chat order for Telegram updates: one chat at a time, many chats at once.

PTB offers two choices and neither fits. By default it handles every update
one after another, so one slow chat holds up everyone; with
``concurrent_updates(True)`` it runs them all at once, and two quick taps in
one chat can overtake each other, so the engine would see "send it" before
"yes". :class:`ChatOrderedProcessor` is PTB's own extension point
(:class:`~telegram.ext.BaseUpdateProcessor`) doing both: each chat has a lock,
taken in the order the updates arrived, and different chats run side by side.

Why the order holds: PTB's fetcher starts one task per update in queue order;
a task reaches :meth:`do_process_update` without yielding (PTB's semaphore is
FIFO and sized far above what we use), and the chat's lock is asked for
before the first ``await``. ``asyncio.Lock`` wakes its waiters first in,
first out. The real work then runs under our own semaphore, so updates
waiting for their chat's turn don't take slots from other chats.

Locks are reference counted and dropped when no update for the chat is
running or waiting, so the table holds only chats with work in flight (it
is in memory only and is never logged).

A repeated ``update_id`` (Telegram re-sends a webhook update it thinks was
lost) is handled once: a small in-process memory of recent ids, plus an
optional shared check (``seen``) that spans replicas.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from typing import Any, Awaitable, Callable

from telegram import Update
from telegram.ext import BaseUpdateProcessor

log = logging.getLogger(__name__)

SeenFn = Callable[[str], Awaitable[bool]]
RECENT_IDS = 20_000
PTB_SLOTS = 100_000  # PTB's own bound: effectively off; ours is ``max_running``


class _ChatLock:
    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.users = 0


class ChatOrderedProcessor(BaseUpdateProcessor):
    """Runs updates of different chats concurrently and those of one chat in arrival order."""

    __slots__ = ("_chats", "_running", "_recent", "_seen", "duplicates")

    def __init__(self, max_running: int = 64, seen: SeenFn | None = None) -> None:
        super().__init__(PTB_SLOTS)
        self._chats: dict[Any, _ChatLock] = {}
        self._running = asyncio.Semaphore(max_running)
        self._recent: OrderedDict[int, None] = OrderedDict()
        self._seen = seen
        self.duplicates = 0

    @property
    def chats_in_flight(self) -> int:
        """How many chats have an update running or waiting (tests check locks don't leak)."""
        return len(self._chats)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        if isinstance(update, Update) and self._remember(update.update_id):
            self.duplicates += 1
            _close(coroutine)
            return
        chat = _chat_of(update)
        if chat is None:
            async with self._running:
                await coroutine
            return
        entry = self._chats.get(chat)
        if entry is None:
            entry = self._chats[chat] = _ChatLock()
        entry.users += 1
        try:
            async with entry.lock:
                if isinstance(update, Update) and self._seen is not None and await self._shared_seen(update.update_id):
                    self.duplicates += 1
                    _close(coroutine)
                    return
                async with self._running:
                    await coroutine
        finally:
            entry.users -= 1
            if entry.users == 0:
                del self._chats[chat]

    def _remember(self, update_id: int) -> bool:
        """True if this process has already taken this update id."""
        if update_id in self._recent:
            return True
        self._recent[update_id] = None
        if len(self._recent) > RECENT_IDS:
            self._recent.popitem(last=False)
        return False

    async def _shared_seen(self, update_id: int) -> bool:
        try:
            return await self._seen(str(update_id))  # type: ignore[misc]
        except Exception:
            # The shared check is a second line; if the store is down, the local one stands.
            log.warning("shared duplicate check failed; relying on this process's memory", extra={"event": "dedup_unavailable"})
            return False

    async def initialize(self) -> None:
        """Nothing to allocate."""

    async def shutdown(self) -> None:
        """Nothing to free: PTB waits for running updates before calling this."""


def _chat_of(update: object) -> object | None:
    if not isinstance(update, Update):
        return None
    chat = update.effective_chat
    if chat is not None:
        return chat.id
    user = update.effective_user
    return None if user is None else ("user", user.id)


def _close(coroutine: Awaitable[Any]) -> None:
    close = getattr(coroutine, "close", None)
    if close is not None:
        close()
