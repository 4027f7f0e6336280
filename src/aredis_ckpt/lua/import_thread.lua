-- import_thread (cluster copy_thread, step 2): merge exported contents into a thread.
-- KEYS: the target thread's ten keys.  ARGV: target thread id, target T, ttl ms, then nine
-- sections (n c m v w as field/value lists, i j wx r as members), each preceded by its length.
-- Returns {shared-index members to add, runs to add the thread to}.
local tag = ARGV[2]
redis.call('SET', KEYS[K_T], ARGV[1])
-- a value GC of the target in progress marks again, seeing the copied checkpoints
redis.call('DEL', thread_base(KEYS) .. 'gs')
local pos = 4
local sections = {}
for s = 1, 9 do
  local n = tonumber(ARGV[pos])
  local items = {}
  for x = 1, n do items[x] = ARGV[pos + x] end
  sections[s] = items
  pos = pos + n + 1
end
for s, i in ipairs({K_N, K_C, K_M, K_V, K_W}) do chunked('HSET', KEYS[i], sections[s], 1, 2) end
for s, i in ipairs({K_I, K_J, K_WX, K_R}) do zadd_all(KEYS[i], sections[5 + s]) end
local members = {}
for _, m in ipairs(sections[7]) do
  local cid, ns_e = split_last(m)
  members[#members + 1] = cid .. NUL .. tag .. NUL .. ns_e
end
local runs, seen = {}, {}
for _, m in ipairs(sections[9]) do
  local run = split_first(m)
  if not seen[run] then seen[run] = true; runs[#runs + 1] = run end
end
touch(KEYS, tonumber(ARGV[3]))
return {members, runs}
