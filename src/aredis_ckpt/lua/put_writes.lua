-- put_writes: pending writes of one task at one checkpoint, atomically.
-- KEYS: the thread's ten keys.
-- ARGV: N, namespace, thread id, ttl ms, cid, T, shared key base ('' on a cluster), then
--       (name suffix, blob, overwrite '1'/'0') triples.
-- Ordinary writes are inserted only if absent; special channels (negative idx) overwrite.
local ns_e = ARGV[1]
local p = writes_prefix(ns_e, ARGV[5])
redis.call('SET', KEYS[K_T], ARGV[3])
redis.call('HSET', KEYS[K_N], ns_e, ARGV[2])
for i = 8, #ARGV, 3 do
  local name = p .. ARGV[i]
  if ARGV[i + 2] == '1' then
    redis.call('HSET', KEYS[K_W], name, ARGV[i + 1])
    redis.call('ZADD', KEYS[K_WX], 0, name)
  elseif redis.call('HSETNX', KEYS[K_W], name, ARGV[i + 1]) == 1 then
    redis.call('ZADD', KEYS[K_WX], 0, name)
  end
end
local ttl = tonumber(ARGV[4])
touch(KEYS, ttl)
if ARGV[7] ~= '' then track(ARGV[7], ARGV[6], ttl, {}) end
return 1
