"""The Redis side of one message, as server-side scripts: two round trips, every guarantee kept.

Before, one SMS cost six round trips and 18 commands (duplicate check, rate
check, lock, load, save, unlock; issue 15 measured 0.06x a bare handler).
Each script here runs atomically on the server, so what used to take a
lock, a read and a write from the client is one call:

* :data:`BEGIN`: the message id seen before? count the message in the rate
  window; within the limit, take the session lock (``SET NX PX`` with a
  random token, the single-instance lock Redis documents, the same commands
  redis-py's ``Lock`` sends) and return the sealed session.
* :data:`TAKE`: the lock again, for a message that found it held (another
  message from the same person is in flight): the client waits and retries.
* :data:`SAVE` / :data:`WIPE`: write the session and its place in the idle
  set (or wipe it and its counters), and release the lock only if it is
  still ours (compare-and-delete, as redis-py's ``Lock.release`` does).
* :data:`REAP`: claim one idle session for one replica, only if its score
  still says idle and nobody holds its lock, so a save can never land
  between the reaper's read and its delete.

Scripts are sent with redis-py's ``register_script`` (EVALSHA, loading the
script once if the server doesn't have it).
"""

BEGIN = """
if ARGV[1] ~= '0' then
  if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return {1, 0, 0, false} end
end
local n = redis.call('INCR', KEYS[2])
if redis.call('TTL', KEYS[2]) < 0 then redis.call('EXPIRE', KEYS[2], ARGV[2]) end
if n > tonumber(ARGV[3]) then return {0, n, 0, false} end
if not redis.call('SET', KEYS[3], ARGV[4], 'NX', 'PX', ARGV[5]) then return {0, n, 0, false} end
return {0, n, 1, redis.call('GET', KEYS[4])}
"""

TAKE = """
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return {0, false} end
return {1, redis.call('GET', KEYS[2])}
"""

SAVE = """
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[2])
if redis.call('GET', KEYS[3]) == ARGV[5] then redis.call('DEL', KEYS[3]) end
return 1
"""

WIPE = """
redis.call('DEL', KEYS[1], KEYS[4])
redis.call('ZREM', KEYS[2], ARGV[1])
if redis.call('GET', KEYS[3]) == ARGV[2] then redis.call('DEL', KEYS[3]) end
return 1
"""

RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

REAP = """
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) > tonumber(ARGV[2]) then return false end
if redis.call('EXISTS', KEYS[3]) == 1 then return false end
redis.call('ZREM', KEYS[1], ARGV[1])
local sealed = redis.call('GET', KEYS[2])
redis.call('DEL', KEYS[2], KEYS[4])
return sealed or ''
"""
