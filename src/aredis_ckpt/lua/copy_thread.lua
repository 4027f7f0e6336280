-- copy_thread: merge every checkpoint, value and write of one thread into another.
-- KEYS: the source's ten keys, the target's ten keys, then on one server (with the index across
-- threads) the target's bucket index.  ARGV: target thread id, target T, ttl ms.
-- Nothing stored inside the keys names its thread, so the copy is key by key.
if redis.call('EXISTS', KEYS[K_T]) == 0 then return 0 end
local dst = {}
for i = 1, 10 do dst[i] = KEYS[10 + i] end
local tag = ARGV[2]
local bix = bucket_index(21)
redis.call('SET', dst[K_T], ARGV[1])
-- a value GC of the target in progress marks again, seeing the copied checkpoints
redis.call('DEL', thread_base(dst) .. 'gs')
for _, i in ipairs({K_N, K_C, K_M, K_V, K_W}) do
  chunked('HSET', dst[i], redis.call('HGETALL', KEYS[i]), 1, 2)
end
for _, i in ipairs({K_I, K_J, K_WX, K_R}) do
  zadd_all(dst[i], redis.call('ZRANGE', KEYS[i], 0, -1))
end
local ttl = tonumber(ARGV[3])
if bix then
  local bbase = bucket_base(bix)
  local members, entries = {}, {}
  for _, m in ipairs(redis.call('ZRANGE', KEYS[K_J], 0, -1)) do
    local cid, ns_e = split_last(m)
    members[#members + 1] = cid .. NUL .. tag .. NUL .. ns_e
    entries[#entries + 1] = 'c' .. members[#members]
  end
  zadd_all(bix, members)
  for _, m in ipairs(redis.call('ZRANGE', KEYS[K_R], 0, -1)) do
    local run = split_first(m)
    redis.call('SADD', bbase .. 'run:' .. run, tag)
    entries[#entries + 1] = 'r' .. run
  end
  track(bbase, tag, ttl, entries)
end
touch(dst, ttl)
return 1
