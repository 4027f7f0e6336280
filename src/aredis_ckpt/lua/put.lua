-- put: one checkpoint, its new channel values, and its index entries, atomically.
-- KEYS: the thread's ten keys, then on one server (with the index across threads) the thread's
--       bucket index and the run's set in that bucket.
-- ARGV: cid, checkpoint blob, meta blob, N, namespace, thread id, T, run (escaped or ''),
--       ttl ms, key prefix, shallow ('1': keep only this checkpoint in its namespace), most
--       bucket entries of expired threads to remove (see sweep), then value field / value
--       blob pairs.
-- Returns {bucket members to remove, runs to take the thread out of}: non-empty only for a
-- shallow put when the bucket is not reachable here (a cluster; see bucket.lua).
local cid, ns_e, run, tag = ARGV[1], ARGV[4], ARGV[8], ARGV[7]
local f = ns_e .. NUL .. cid
local bix = bucket_index(11)
-- the thread's and namespace's records never change once written: set only when absent (no
-- write, so nothing for replicas and the AOF, and the record keeps the thread's expiry)
redis.call('SET', KEYS[K_T], ARGV[6], 'NX')
redis.call('HSETNX', KEYS[K_N], ns_e, ARGV[5])
redis.call('HSET', KEYS[K_C], f, ARGV[2])
redis.call('HSET', KEYS[K_M], f, ARGV[3])
-- the GC barrier: while a value GC of the thread runs, what this checkpoint references stays
local gd = thread_base(KEYS) .. 'gd'
if redis.call('EXISTS', gd) == 1 then chunked('SREM', gd, cmsgpack.unpack(ARGV[3])[3]) end
chunked('HSET', KEYS[K_V], ARGV, 13, 2)
redis.call('ZADD', KEYS[K_I], 0, f)
redis.call('ZADD', KEYS[K_J], 0, cid .. NUL .. ns_e)
if run ~= '' then redis.call('ZADD', KEYS[K_R], 0, run .. NUL .. f) end
local ttl = tonumber(ARGV[9])
if ARGV[11] == '1' then
  -- shallow: the namespace keeps only this checkpoint, its writes and the values it references
  local lo, hi = '[' .. ns_e .. NUL, '(' .. ns_e .. '\1'
  -- the values the superseded checkpoints referenced (read from their meta records, not by
  -- listing the thread's values: a put costs its own namespace, however many the thread has)
  local candidates = {}
  for _, member in ipairs(redis.call('ZRANGEBYLEX', KEYS[K_I], lo, hi)) do
    local _, old = split_first(member)
    if old ~= cid then
      local meta = drop_checkpoint(KEYS, tag, ns_e, old, bix)
      if meta then
        for _, vf in ipairs(meta[3]) do candidates[#candidates + 1] = vf end
      end
    end
  end
  local keep = writes_prefix(ns_e, cid)
  local dead = {}
  for _, name in ipairs(redis.call('ZRANGEBYLEX', KEYS[K_WX], lo, hi)) do
    if string.sub(name, 1, #keep) ~= keep then dead[#dead + 1] = name end
  end
  chunked('HDEL', KEYS[K_W], dead)
  chunked('ZREM', KEYS[K_WX], dead)
  -- what they referenced and this checkpoint does not (a value is stored once per channel
  -- version: an unchanged channel's value is referenced by both and stays)
  local referenced = {}
  for _, f in ipairs(cmsgpack.unpack(ARGV[3])[3]) do referenced[f] = true end
  dead = {}
  for _, f in ipairs(candidates) do
    if not referenced[f] then
      referenced[f] = true -- once, though several superseded checkpoints named it
      dead[#dead + 1] = f
    end
  end
  chunked('HDEL', KEYS[K_V], dead)
  release_runs(KEYS, tag, bix, run)
end
if bix then
  local member = cid .. NUL .. tag .. NUL .. ns_e
  redis.call('ZADD', bix, 0, member)
  local entries = {'c' .. member}
  if run ~= '' then
    redis.call('SADD', KEYS[12], tag)
    entries[2] = 'r' .. run
  end
  if ttl > 0 then
    local bbase = bucket_base(bix)
    track(bbase, tag, ttl, entries)
    sweep(bbase, ARGV[10], ttl, 2, tonumber(ARGV[12]))
  end
end
touch(KEYS, ttl)
return {DROPPED, EMPTIED_RUNS}
