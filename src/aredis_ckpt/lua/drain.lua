-- drain: one slice of removing the bucket entries of deleted incarnations of a thread (see
-- delete_thread.lua), resumable: entries are popped from the renamed j / r keys, so a slice
-- interrupted anywhere leaves the rest for the next call.  An entry the live thread holds again
-- (a thread written under the same id since, e.g. by copy_thread with the same checkpoint ids)
-- stays in the bucket; a run the live thread still has keeps it in the run's set.
-- KEYS: the thread's ten keys, then on one server the thread's bucket index.  ARGV: T, budget.
-- Returns {'' when nothing is left else '1', bucket members to remove, runs to take the thread
-- out of} (both empty when the bucket index was passed: the script applied them).
local tag, left = ARGV[1], tonumber(ARGV[2])
local bix = bucket_index(11)
local base = thread_base(KEYS)
local members, runs = {}, {}
while left > 0 do
  local nonce = redis.call('SRANDMEMBER', base .. 'x')
  if not nonce then break end
  local tj, tr = base .. 'x:' .. nonce .. ':j', base .. 'x:' .. nonce .. ':r'
  local popped = redis.call('ZPOPMIN', tj, left)
  for i = 1, #popped, 2 do
    local cid, ns_e = split_last(popped[i])
    if not redis.call('ZSCORE', KEYS[K_I], ns_e .. NUL .. cid) then
      members[#members + 1] = cid .. NUL .. tag .. NUL .. ns_e
    end
  end
  left = left - #popped / 2
  if left > 0 then
    popped = redis.call('ZPOPMIN', tr, left)
    local seen = {}
    for i = 1, #popped, 2 do
      local run = split_first(popped[i])
      if not seen[run] then
        seen[run] = true
        local lo, hi = '[' .. run .. NUL, '(' .. run .. '\1'
        if #redis.call('ZRANGEBYLEX', tr, lo, hi, 'LIMIT', 0, 1) == 0
            and #redis.call('ZRANGEBYLEX', KEYS[K_R], lo, hi, 'LIMIT', 0, 1) == 0 then
          runs[#runs + 1] = run
        end
      end
    end
    left = left - #popped / 2
  end
  if redis.call('EXISTS', tj, tr) == 0 then redis.call('SREM', base .. 'x', nonce) end
end
local more = redis.call('EXISTS', base .. 'x') == 1 and '1' or ''
if bix then
  local bbase = bucket_base(bix)
  chunked('ZREM', bix, members)
  for _, run in ipairs(runs) do redis.call('SREM', bbase .. 'run:' .. run, tag) end
  note_todo(KEYS, tag, bix)
  return {more, {}, {}}
end
return {more, members, runs}
