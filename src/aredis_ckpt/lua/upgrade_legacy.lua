-- upgrade_legacy (schema 1 -> 2): drop migrated threads' entries from the version-1 indexes,
-- which all live in the slot {%G}.  KEYS: the version-1 index (P:{%G}:ix).
-- ARGV: then per thread: T1, number of index members, those members, number of runs, those
-- runs.  The thread's TTL bookkeeping goes too, with every entry it lists.
local ix = KEYS[1]
local gbase = string.sub(ix, 1, #ix - 2)
local pos = 1
while pos <= #ARGV do
  local tag = ARGV[pos]
  local n = tonumber(ARGV[pos + 1])
  for x = 1, n do redis.call('ZREM', ix, ARGV[pos + 1 + x]) end
  pos = pos + 2 + n
  local r = tonumber(ARGV[pos])
  for x = 1, r do redis.call('SREM', gbase .. 'run:' .. ARGV[pos + x], tag) end
  pos = pos + 1 + r
  local gm = gbase .. 'gm:' .. tag
  for _, e in ipairs(redis.call('SMEMBERS', gm)) do
    if string.sub(e, 1, 1) == 'c' then
      redis.call('ZREM', ix, string.sub(e, 2))
    else
      redis.call('SREM', gbase .. 'run:' .. string.sub(e, 2), tag)
    end
  end
  redis.call('UNLINK', gm)
  redis.call('ZREM', gbase .. 'exp', tag)
end
return 1
