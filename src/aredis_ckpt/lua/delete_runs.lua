-- delete_for_runs, for one thread: drop the checkpoints whose metadata run_id is one of the runs,
-- with their writes and the values nothing else references.
-- KEYS: the thread's ten keys, then on one server the thread's bucket index.  ARGV: T, runs.
-- Returns {bucket members to remove, runs to take this thread out of} (see prune.lua).
local tag = ARGV[1]
local bix = bucket_index(11)
for i = 2, #ARGV do
  local run = ARGV[i]
  local members = redis.call('ZRANGEBYLEX', KEYS[K_R], '[' .. run .. NUL, '(' .. run .. '\1')
  for _, member in ipairs(members) do
    local _, f = split_first(member)
    local ns_e, cid = split_first(f)
    local m = redis.call('HGET', KEYS[K_M], f)
    if m and cmsgpack.unpack(m)[5] == run then
      drop_checkpoint(KEYS, tag, ns_e, cid, bix)
    end
    redis.call('ZREM', KEYS[K_R], member)
  end
  run_emptied(tag, run, bix)
end
gc_values(KEYS)
return {DROPPED, EMPTIED_RUNS}
