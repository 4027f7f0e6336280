-- delete_thread: every key of the thread, and its entries in its bucket.
-- KEYS: the thread's ten keys, then on one server (with the index across threads) the thread's
-- bucket index.  ARGV: T.
-- Returns {bucket members to remove, runs to take this thread out of} when the bucket index was
-- not passed (a cluster: the client applies them in the bucket's slot), else {{}, {}}.
local tag = ARGV[1]
local bix = bucket_index(11)
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
if bix then
  local bbase = bucket_base(bix)
  chunked('ZREM', bix, members)
  for _, run in ipairs(runs) do redis.call('SREM', bbase .. 'run:' .. run, tag) end
  untrack(bbase, tag)
  return {{}, {}}
end
return {members, runs}
