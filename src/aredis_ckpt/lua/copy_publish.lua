-- copy_publish (copy_thread into an absent target): rename a complete staging copy onto the
-- target's names, so the whole thread appears at once.
-- KEYS: the staging copy's ten keys, then the target's ten keys.  ARGV: ttl ms (0: none), then
-- for each of the ten keys the entries the staging pages added to it.
-- Returns 'ok'; 'busy' when the target got keys meanwhile (the staging copy is dropped: copy
-- again as a merge); or {'lost', name of a staging key} when a staging key does not hold what
-- the pages wrote (it expired or was evicted; the staging copy is dropped).
local function size(i)
  local kind = redis.call('TYPE', KEYS[i])['ok']
  if kind == 'none' then return 0 end
  if kind == 'string' then return 1 end
  if kind == 'hash' then return redis.call('HLEN', KEYS[i]) end
  return redis.call('ZCARD', KEYS[i])
end
for i = 1, 10 do
  if size(i) ~= tonumber(ARGV[1 + i]) then
    redis.call('UNLINK', unpack(KEYS, 1, 10))
    return {'lost', NAMES[i]}
  end
end
if redis.call('EXISTS', unpack(KEYS, 11, 20)) > 0 then
  redis.call('UNLINK', unpack(KEYS, 1, 10))
  return 'busy'
end
-- value GC state left by a thread of this id that is gone is stale: it must not sweep the copy
local target = string.sub(KEYS[10 + K_T], 1, #KEYS[10 + K_T] - 1)
redis.call('UNLINK', target .. 'gd', target .. 'gs')
local ttl = tonumber(ARGV[1])
for i = 1, 10 do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    redis.call('RENAME', KEYS[i], KEYS[10 + i])
    if ttl > 0 then
      redis.call('PEXPIRE', KEYS[10 + i], ttl)
    else
      redis.call('PERSIST', KEYS[10 + i])
    end
  end
end
return 'ok'
