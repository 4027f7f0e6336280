-- prune: keep the newest `keep` checkpoints of every namespace of the thread (with their pending
-- writes and the values they reference); drop the rest.  KEYS: the thread's ten keys, then on
-- one server the thread's bucket index.  ARGV: T, keep (>= 1).
-- Returns {bucket members to remove, runs to take this thread out of} (empty unless the bucket
-- index was not passed).
local tag, keep = ARGV[1], tonumber(ARGV[2])
local bix = bucket_index(11)
for _, ns_e in ipairs(redis.call('HKEYS', KEYS[K_N])) do
  local lo, hi = '[' .. ns_e .. NUL, '(' .. ns_e .. '\1'
  local members = redis.call('ZREVRANGEBYLEX', KEYS[K_I], hi, lo)
  local kept = {}
  for i, member in ipairs(members) do
    local _, cid = split_first(member)
    if i <= keep then
      kept[#kept + 1] = writes_prefix(ns_e, cid)
    else
      drop_checkpoint(KEYS, tag, ns_e, cid, bix)
    end
  end
  -- pending writes stored for checkpoints that no longer exist
  local dead = {}
  for _, name in ipairs(redis.call('ZRANGEBYLEX', KEYS[K_WX], lo, hi)) do
    local live = false
    for _, p in ipairs(kept) do
      if string.sub(name, 1, #p) == p then live = true; break end
    end
    if not live then dead[#dead + 1] = name end
  end
  chunked('HDEL', KEYS[K_W], dead)
  chunked('ZREM', KEYS[K_WX], dead)
end
release_runs(KEYS, tag, bix, nil)
gc_values(KEYS)
return {DROPPED, EMPTIED_RUNS}
