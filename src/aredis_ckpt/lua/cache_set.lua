-- cache_set: write one batch of entries.
-- KEYS: generation keys of the buckets written.  ARGV: token (the generation of a bucket that
-- has none yet), expired entries each written namespace sweeps, registry entries each bucket
-- sweeps, retired namespaces each bucket collects; then per bucket in KEYS order:
-- <namespaces>, then per namespace: N, <count>, then per entry: key, ttl, value.
-- ttl: '' for no expiry, '0' for an entry that is already expired (it is removed), else ms.
local token = ARGV[1]
local sweep, reg_budget, collect_budget = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local p = 5
for i = 1, #KEYS do
  local base = base_of(KEYS[i])
  local g = redis.call('GET', KEYS[i])
  if not g then
    g = token
    redis.call('SET', KEYS[i], g)
  end
  collect(base, collect_budget)
  sweep_registry(base, g, reg_budget)
  local spaces = tonumber(ARGV[p])
  p = p + 1
  for _ = 1, spaces do
    local ns, count = ARGV[p], tonumber(ARGV[p + 1])
    p = p + 2
    local e, x = entries_key(base, g, ns), expiries_key(base, g, ns)
    for _ = 1, count do
      local key, ttl, value = ARGV[p], ARGV[p + 1], ARGV[p + 2]
      p = p + 3
      if ttl == '' then
        redis.call('HSET', e, key, '0 ' .. value)
        redis.call('ZREM', x, key)
      elseif ttl == '0' then
        redis.call('HDEL', e, key)
        redis.call('ZREM', x, key)
      else
        local at = ms(NOW + tonumber(ttl))
        redis.call('HSET', e, key, at .. ' ' .. value)
        redis.call('ZADD', x, at, key)
      end
    end
    local dead = redis.call('ZRANGEBYSCORE', x, '-inf', ms(NOW), 'LIMIT', 0, sweep + 2 * count)
    if #dead > 0 then
      chunked('HDEL', e, dead)
      chunked('ZREM', x, dead)
    end
    settle(base, g, ns)
  end
end
return #KEYS
