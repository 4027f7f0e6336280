-- bucket (cluster): apply a thread's changes to its bucket of the indexes across threads, in the
-- bucket's slot.  KEYS: the bucket's index.
-- ARGV: op, T, ttl ms, then four counted lists: members to add, members to remove, runs to add
--       the thread to, runs to take it out of (each list preceded by its length).
-- op 'add' (put, copy, migration): with a ttl the thread's expiry and new entries are recorded,
-- and up to four due threads of the bucket are returned as {T, score, ...} for the client to
-- check (see 'settle'); 'remove': entries dropped by prune, delete_for_runs or a shallow put;
-- 'forget': the thread was deleted.
-- op 'settle': ARGV[2] is the most bucket entries of expired threads to remove (see
-- forget_thread: a thread with more stays due), ARGV from 4 holds (T, score seen, PTTL of the
-- thread's t key) triples; a thread whose score changed since (a put rescheduled it) is left
-- alone.
local op, tag, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3])
local bix = KEYS[1]
local bbase = bucket_base(bix)
if op == 'settle' then
  local now = now_ms()
  local entries = tonumber(tag)
  for i = 4, #ARGV, 3 do
    if entries <= 0 then break end
    if redis.call('ZSCORE', bbase .. 'exp', ARGV[i]) == ARGV[i + 1] then
      entries = entries - settle(bbase, ARGV[i], tonumber(ARGV[i + 2]), ttl, now, entries)
    end
  end
  return {}
end
local pos = 4
local function take()
  local n = tonumber(ARGV[pos])
  local items = {}
  for x = 1, n do items[x] = ARGV[pos + x] end
  pos = pos + n + 1
  return items
end
local add, del, add_runs, del_runs = take(), take(), take(), take()
zadd_all(bix, add)
chunked('ZREM', bix, del)
for _, run in ipairs(add_runs) do redis.call('SADD', bbase .. 'run:' .. run, tag) end
for _, run in ipairs(del_runs) do redis.call('SREM', bbase .. 'run:' .. run, tag) end
if op == 'forget' then
  untrack(bbase, tag)
  return {}
end
local gone = {}
for _, m in ipairs(del) do gone[#gone + 1] = 'c' .. m end
for _, run in ipairs(del_runs) do gone[#gone + 1] = 'r' .. run end
chunked('SREM', bbase .. 'gm:' .. tag, gone)
if op == 'add' and ttl > 0 then
  local entries = {}
  for _, m in ipairs(add) do entries[#entries + 1] = 'c' .. m end
  for _, run in ipairs(add_runs) do entries[#entries + 1] = 'r' .. run end
  track(bbase, tag, ttl, entries)
  return due(bbase, 4)
end
return {}
