-- gc: one slice of the value GC of a thread, after prune / delete_runs dropped checkpoints.
-- The candidates (gd) are the fields the dropped checkpoints referenced.  Mark: walk the
-- remaining checkpoints in index order (cursor in gs), removing every field they reference from
-- the candidates; sweep: pop candidates and delete their values.  Dropping more checkpoints
-- (new candidates) or copying checkpoints into the thread restarts the mark; a put meanwhile
-- removes the fields it references from the candidates itself (put.lua: the barrier), so no
-- value a checkpoint references is ever swept.
-- KEYS: the thread's ten keys, then on one server the thread's bucket index.  ARGV: T, budget.
-- Returns {'' when the GC is done else '1', {}, {}}.
local tag, budget = ARGV[1], tonumber(ARGV[2])
local bix = bucket_index(11)
local base = thread_base(KEYS)
local gd, gs = base .. 'gd', base .. 'gs'
local state = redis.call('GET', gs)
if redis.call('EXISTS', gd) == 1 and state ~= 's' then
  local lo = '-'
  if state then lo = '(' .. string.sub(state, 2) end
  local members = redis.call('ZRANGEBYLEX', KEYS[K_I], lo, '+', 'LIMIT', 0, budget)
  -- at most `budget` checkpoints and about 4 x budget referenced fields per slice
  local live, seen, fields, last = {}, {}, 0, #members
  if #members > 0 then
    for x, m in ipairs(hmget_all(KEYS[K_M], members)) do
      if m then
        for _, f in ipairs(cmsgpack.unpack(m)[3]) do
          fields = fields + 1
          if not seen[f] then seen[f] = true; live[#live + 1] = f end
        end
      end
      if fields >= 4 * budget then last = x; break end
    end
    chunked('SREM', gd, live)
  end
  if last == #members and #members < budget then
    state = 's'
  else
    state = 'c' .. members[last]
  end
  redis.call('SET', gs, state)
  local ttl = redis.call('PTTL', gd)
  if ttl > 0 then redis.call('PEXPIRE', gs, ttl) end
elseif state == 's' then
  chunked('HDEL', KEYS[K_V], redis.call('SPOP', gd, budget))
end
local more = '1'
if redis.call('EXISTS', gd) == 0 then
  redis.call('DEL', gs)
  more = ''
end
note_todo(KEYS, tag, bix)
return {more, {}, {}}
