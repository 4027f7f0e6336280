-- put_writes: pending writes of one task at one checkpoint, atomically.  Touches only the
-- thread's keys (the buckets' TTL bookkeeping is written by put alone).
-- KEYS: the thread's ten keys.
-- ARGV: N, namespace, thread id, ttl ms, cid, then (name suffix, blob, overwrite '1'/'0') triples.
-- Ordinary writes are inserted only if absent; special channels (negative idx) overwrite.
local ns_e = ARGV[1]
local p = writes_prefix(ns_e, ARGV[5])
-- written only when absent, as in put.lua
redis.call('SET', KEYS[K_T], ARGV[3], 'NX')
redis.call('HSETNX', KEYS[K_N], ns_e, ARGV[2])
for i = 6, #ARGV, 3 do
  local name = p .. ARGV[i]
  if ARGV[i + 2] == '1' then
    redis.call('HSET', KEYS[K_W], name, ARGV[i + 1])
    redis.call('ZADD', KEYS[K_WX], 0, name)
  elseif redis.call('HSETNX', KEYS[K_W], name, ARGV[i + 1]) == 1 then
    redis.call('ZADD', KEYS[K_WX], 0, name)
  end
end
touch(KEYS, tonumber(ARGV[4]))
return 1
