-- shared_apply (cluster only): apply a thread's changes to the shared indexes in their own slot
-- ({%G}), after the thread script ran in the thread's slot.
-- KEYS: the global index.  ARGV: shared key base, T, ttl ms, grace ms, op, number of members,
-- members (cid\0T\0N of the global index), then runs (escaped).
-- op 'add': index the members and runs, and record the expiry (with a ttl); 'remove': drop
-- them; 'forget': drop them and the thread's expiry record (the thread was deleted).
local gbase, tag, ttl, grace, op = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
local n = tonumber(ARGV[6])
local members, runs, entries = {}, {}, {}
for i = 7, 6 + n do
  members[#members + 1] = ARGV[i]
  entries[#entries + 1] = 'c' .. ARGV[i]
end
for i = 7 + n, #ARGV do
  runs[#runs + 1] = ARGV[i]
  entries[#entries + 1] = 'r' .. ARGV[i]
end
if op == 'add' then
  zadd_all(KEYS[1], members)
  for _, run in ipairs(runs) do redis.call('SADD', gbase .. 'run:' .. run, tag) end
  if ttl > 0 then
    track(gbase, tag, ttl, entries)
    sweep(gbase, 2, grace)
  end
else
  chunked('ZREM', KEYS[1], members)
  for _, run in ipairs(runs) do redis.call('SREM', gbase .. 'run:' .. run, tag) end
  if op == 'forget' then
    untrack(gbase, tag)
  else
    chunked('SREM', gbase .. 'gm:' .. tag, entries)
  end
end
return 1
