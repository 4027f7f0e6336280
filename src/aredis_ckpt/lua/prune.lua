-- prune, one slice: keep the newest `keep` checkpoints of every namespace of the thread (with
-- their pending writes); drop the rest oldest first, whole checkpoints with their writes and
-- index entries, never more than the budget per call.  Values are left to gc.lua: the fields
-- the dropped checkpoints referenced become GC candidates.
-- KEYS: the thread's ten keys, then on one server the thread's bucket index.
-- ARGV: T, keep (>= 1), budget, phase, cursor.
--   phase 'n': namespaces, cursor an HSCAN cursor of n ('0' to start); a namespace without
--              checkpoints loses its writes and goes.
--   phase 'w': pending writes of checkpoints that no longer exist, cursor a ZRANGEBYLEX bound of
--              wx ('-' to start).
-- Returns {next cursor ('' when the phase is done), bucket members to remove, runs to take this
-- thread out of} (both empty when the bucket index was passed).
local tag, keep, budget, phase, cursor = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], ARGV[5]
local bix = bucket_index(11)
COLLECT = true
local left = budget
local next_cursor = ''
if phase == 'n' then
  local scan = redis.call('HSCAN', KEYS[K_N], cursor, 'COUNT', budget)
  local items = scan[2]
  local finished = true
  for x = 1, #items, 2 do
    local ns_e = items[x]
    local lo, hi = '[' .. ns_e .. NUL, '(' .. ns_e .. '\1'
    local count = redis.call('ZLEXCOUNT', KEYS[K_I], lo, hi)
    if left <= 0 then finished = false; break end
    if count > keep then
      local take = math.min(count - keep, left)
      for _, member in ipairs(redis.call('ZRANGEBYLEX', KEYS[K_I], lo, hi, 'LIMIT', 0, take)) do
        local _, cid = split_first(member)
        drop_checkpoint(KEYS, tag, ns_e, cid, bix)
      end
      left = left - take
      if take < count - keep then finished = false; break end
    elseif count == 0 then
      -- no checkpoint: its writes are all orphans
      local names = redis.call('ZRANGEBYLEX', KEYS[K_WX], lo, hi, 'LIMIT', 0, left)
      chunked('HDEL', KEYS[K_W], names)
      chunked('ZREM', KEYS[K_WX], names)
      left = left - #names
      TOUCHED_NS[ns_e] = true
      if #names > 0 and #redis.call('ZRANGEBYLEX', KEYS[K_WX], lo, hi, 'LIMIT', 0, 1) > 0 then
        finished = false; break
      end
    end
  end
  if not finished then
    next_cursor = cursor -- the same batch again: the namespaces done cost one ZLEXCOUNT each
  elseif scan[1] ~= '0' then
    next_cursor = scan[1]
  end
else
  local names = redis.call('ZRANGEBYLEX', KEYS[K_WX], cursor, '+', 'LIMIT', 0, budget)
  local dead = {}
  for _, name in ipairs(names) do
    -- N\0<len(cid)>:<cid><idx>:<task>
    local ns_e, rest = split_first(name)
    local colon = string.find(rest, ':', 1, true)
    local n = tonumber(string.sub(rest, 1, colon - 1))
    local cid = string.sub(rest, colon + 1, colon + n)
    if not redis.call('ZSCORE', KEYS[K_I], ns_e .. NUL .. cid) then dead[#dead + 1] = name end
  end
  chunked('HDEL', KEYS[K_W], dead)
  chunked('ZREM', KEYS[K_WX], dead)
  if #names == budget then next_cursor = '(' .. names[#names] end
end
release_runs(KEYS, tag, bix, nil)
gc_restart(KEYS)
forget_empty(KEYS)
note_todo(KEYS, tag, bix)
return {next_cursor, DROPPED, EMPTIED_RUNS}
