-- delete_for_runs, for one thread: drop the checkpoints whose metadata run_id is one of the runs,
-- with their writes and the values nothing else references.
-- KEYS: the thread's ten keys, then optionally the global index.  ARGV: T, global key base, runs.
-- Returns {shared-index members to remove, runs to take this thread out of} (see prune.lua).
local tag, gbase = ARGV[1], ARGV[2]
local gix = false
if #KEYS > 10 then gix = KEYS[11] end
for i = 3, #ARGV do
  local run = ARGV[i]
  local members = redis.call('ZRANGEBYLEX', KEYS[K_R], '[' .. run .. NUL, '(' .. run .. '\1')
  for _, member in ipairs(members) do
    local _, f = split_first(member)
    local ns_e, cid = split_first(f)
    local m = redis.call('HGET', KEYS[K_M], f)
    if m and cmsgpack.unpack(m)[5] == run then
      drop_checkpoint(KEYS, tag, ns_e, cid, gix)
    end
    redis.call('ZREM', KEYS[K_R], member)
  end
  run_emptied(gbase, tag, run, gix)
end
gc_values(KEYS)
return {DROPPED, EMPTIED_RUNS}
