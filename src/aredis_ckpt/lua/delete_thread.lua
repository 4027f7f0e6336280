-- delete_thread: every key of the thread, and its entries in the shared indexes.
-- KEYS: the thread's ten keys, then optionally the global index.  ARGV: T, global key base.
local tag, gbase = ARGV[1], ARGV[2]
if #KEYS > 10 then
  local members = {}
  for _, m in ipairs(redis.call('ZRANGE', KEYS[K_J], 0, -1)) do
    local cid, ns_e = split_last(m)
    members[#members + 1] = cid .. NUL .. tag .. NUL .. ns_e
  end
  chunked('ZREM', KEYS[11], members)
  local runs = {}
  for _, m in ipairs(redis.call('ZRANGE', KEYS[K_R], 0, -1)) do
    local run = split_first(m)
    runs[run] = true
  end
  for run in pairs(runs) do redis.call('SREM', gbase .. 'run:' .. run, tag) end
end
return redis.call('UNLINK', unpack(KEYS, 1, 10))
