"""Where sessions live between messages: in memory (the default) or Redis (several replicas).

Both stores keep a session only until it ends or idles out, keep nothing on
disk, and key everything by a keyed hash of the chat id or phone number
(:func:`bot.identity.session_key`), never the raw id.
"""

from __future__ import annotations

from bot.config import Settings
from bot.stores.base import SessionStore, StoreUnavailable, Turn

__all__ = ["SessionStore", "StoreUnavailable", "Turn", "open_session_store"]


async def open_session_store(settings: Settings) -> SessionStore:
    """The store the settings ask for: Redis when ``FRONTDOOR_REDIS_URL`` is set, else memory."""
    if settings.redis_url:
        from bot.stores.redis import RedisStore

        return RedisStore(settings.redis_url, settings.hash_secret, idle_seconds=settings.session_idle_seconds, max_connections=settings.redis_max_connections)
    from bot.stores.memory import MemoryStore

    return MemoryStore()
