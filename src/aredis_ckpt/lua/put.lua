-- put: one checkpoint, its new channel values, and its index entries, atomically.
-- KEYS: the thread's ten keys, then optionally the global index and the run's global set.
-- ARGV: cid, checkpoint blob, meta blob, N, namespace, thread id, T, run (escaped or ''),
--       ttl ms, shared key base, then value field / value blob pairs.
local cid, ns_e, run, tag = ARGV[1], ARGV[4], ARGV[8], ARGV[7]
local f = ns_e .. NUL .. cid
redis.call('SET', KEYS[K_T], ARGV[6])
redis.call('HSET', KEYS[K_N], ns_e, ARGV[5])
redis.call('HSET', KEYS[K_C], f, ARGV[2])
redis.call('HSET', KEYS[K_M], f, ARGV[3])
chunked('HSET', KEYS[K_V], ARGV, 11, 2)
redis.call('ZADD', KEYS[K_I], 0, f)
redis.call('ZADD', KEYS[K_J], 0, cid .. NUL .. ns_e)
if run ~= '' then redis.call('ZADD', KEYS[K_R], 0, run .. NUL .. f) end
local ttl = tonumber(ARGV[9])
if #KEYS > 10 then
  local member = cid .. NUL .. tag .. NUL .. ns_e
  redis.call('ZADD', KEYS[11], 0, member)
  local entries = {'c' .. member}
  if run ~= '' then
    redis.call('SADD', KEYS[12], tag)
    entries[2] = 'r' .. run
  end
  if ttl > 0 then
    track(ARGV[10], tag, ttl, entries)
    sweep(ARGV[10], 2, 0)
  end
end
touch(KEYS, ttl)
return 1
