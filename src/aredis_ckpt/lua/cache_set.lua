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
    local fields, expiries, untimed, removed = {}, {}, {}, {}
    for _ = 1, count do
      local key, ttl, value = ARGV[p], ARGV[p + 1], ARGV[p + 2]
      p = p + 3
      if ttl == '' then
        fields[#fields + 1] = key
        fields[#fields + 1] = '0 ' .. value
        untimed[#untimed + 1] = key
      elseif ttl == '0' then
        removed[#removed + 1] = key
      else
        local at = ms(now() + tonumber(ttl))
        fields[#fields + 1] = key
        fields[#fields + 1] = at .. ' ' .. value
        expiries[#expiries + 1] = at
        expiries[#expiries + 1] = key
      end
    end
    -- a batch names each key once, so the lists do not overlap
    if #removed > 0 then
      chunked('HDEL', e, removed)
      chunked('ZREM', x, removed)
    end
    if #fields > 0 then chunked('HSET', e, fields) end
    if #untimed > 0 then chunked('ZREM', x, untimed) end
    if #expiries > 0 then chunked('ZADD', x, expiries) end
    local dead = redis.call('ZRANGEBYSCORE', x, '-inf', ms(now()), 'LIMIT', 0, sweep + 2 * count)
    if #dead > 0 then
      chunked('HDEL', e, dead)
      chunked('ZREM', x, dead)
    end
    settle(base, g, ns, #expiries > 0 or #removed > 0 or #dead > 0)
  end
end
return #KEYS
