"""A burst on real Redis through one real ``frontdoor serve``: it queues, nobody gets the degraded reply.

On d346469, 300 SMS senders at once gave 200 the degraded reply (redis-py's
pool of 100 ran out) and sockets from one proxy shared one limit. The full
figure (1,000 senders and 500 sockets, p99) is bench/burst.py's; this is a
smaller burst, asserting only what a person would notice.
"""

from __future__ import annotations

import redis

from tests.oncall import process
from tests.oncall.burst import burst, server_env
from tests.support import unavailable

REDIS_DB = "redis://127.0.0.1:6379/12"


async def test_a_burst_of_sms_and_web_chats_on_redis_gets_no_degraded_reply(tmp_path):
    client = redis.Redis.from_url(REDIS_DB)
    try:
        client.flushdb()
    except redis.RedisError:
        unavailable("Redis is not reachable on 127.0.0.1:6379")
    # A pool of 8 connections for 300 people: more than the pool, so they must queue.
    env = process.base_env(tmp_path, process.free_port(), **server_env(REDIS_DB), FRONTDOOR_REDIS_MAX_CONNECTIONS="8")
    server = process.start(env, tmp_path / "serve.log")
    try:
        result = await burst(server.url, senders=200, sockets=100)
    finally:
        server.terminate()
        client.flushdb()
        client.close()
    assert result.failed == 0, server.output()[-2000:]
    assert result.answered == 200 + 2 * 100
    assert result.without_number == 0
    assert result.degraded == 0, f"{result.degraded:g} degraded replies"
