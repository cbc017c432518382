from __future__ import annotations

import pytest
import redis

from tests.stores.redis_server import OwnRedis
from tests.support import unavailable

SHARED_REDIS = "redis://127.0.0.1:6379/14"  # a database of its own, flushed by each test


@pytest.fixture
def shared_redis_url():
    """The machine's Redis, database 14, empty before and after the test."""
    client = redis.Redis.from_url(SHARED_REDIS)
    try:
        client.ping()
    except redis.RedisError:
        client.close()
        unavailable("Redis is not reachable on 127.0.0.1:6379")
    client.flushdb()
    yield SHARED_REDIS
    client.flushdb()
    client.close()


@pytest.fixture
def own_redis():
    server = OwnRedis()
    server.start()
    yield server
    server.cleanup()
