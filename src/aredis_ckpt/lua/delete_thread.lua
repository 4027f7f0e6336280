-- delete_thread: every key of the thread, and its entries in the shared indexes.
-- KEYS: the thread's ten keys, then optionally the global index.  ARGV: T, global key base.
-- Returns {shared-index members to remove, runs to take this thread out of} when the global
-- index was not passed (a cluster: the client applies them in the shared slot), else {{}, {}}.
local tag, gbase = ARGV[1], ARGV[2]
local gix = false
if #KEYS > 10 then gix = KEYS[11] end
local members = {}
for _, m in ipairs(redis.call('ZRANGE', KEYS[K_J], 0, -1)) do
  local cid, ns_e = split_last(m)
  members[#members + 1] = cid .. NUL .. tag .. NUL .. ns_e
end
local runs, seen = {}, {}
for _, m in ipairs(redis.call('ZRANGE', KEYS[K_R], 0, -1)) do
  local run = split_first(m)
  if not seen[run] then seen[run] = true; runs[#runs + 1] = run end
end
redis.call('UNLINK', unpack(KEYS, 1, 10))
if gix then
  chunked('ZREM', gix, members)
  for _, run in ipairs(runs) do redis.call('SREM', gbase .. 'run:' .. run, tag) end
  untrack(gbase, tag)
  return {{}, {}}
end
return {members, runs}
