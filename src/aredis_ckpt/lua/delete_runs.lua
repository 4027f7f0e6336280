-- delete_for_runs, for one thread, one slice: drop the checkpoints whose metadata run_id is one
-- of the runs (whole checkpoints with their writes and index entries), at most `budget` per call,
-- in the runs' order.  Values are left to gc.lua (the dropped checkpoints' fields become
-- candidates); namespaces left empty go, and the thread with the last of them.
-- KEYS: the thread's ten keys, then on one server the thread's bucket index.
-- ARGV: T, budget, runs.
-- Returns {runs finished (a count, '' when all are), bucket members to remove, runs to take this
-- thread out of} (see prune.lua).
local tag, left = ARGV[1], tonumber(ARGV[2])
local bix = bucket_index(11)
COLLECT = true
local finished = 0
for i = 3, #ARGV do
  if left <= 0 then break end
  local run = ARGV[i]
  local members = redis.call('ZRANGEBYLEX', KEYS[K_R], '[' .. run .. NUL, '(' .. run .. '\1',
    'LIMIT', 0, left)
  for _, member in ipairs(members) do
    local _, f = split_first(member)
    local ns_e, cid = split_first(f)
    local m = redis.call('HGET', KEYS[K_M], f)
    if m and cmsgpack.unpack(m)[5] == run then
      drop_checkpoint(KEYS, tag, ns_e, cid, bix)
    end
    redis.call('ZREM', KEYS[K_R], member)
  end
  left = left - #members
  if #members == 0 or #redis.call('ZRANGEBYLEX', KEYS[K_R], '[' .. run .. NUL, '(' .. run .. '\1',
      'LIMIT', 0, 1) == 0 then
    run_emptied(tag, run, bix)
    finished = finished + 1
  else
    break
  end
end
gc_restart(KEYS)
forget_empty(KEYS)
note_todo(KEYS, tag, bix)
local more = ''
if finished < #ARGV - 2 then more = tostring(finished) end
return {more, DROPPED, EMPTIED_RUNS}
