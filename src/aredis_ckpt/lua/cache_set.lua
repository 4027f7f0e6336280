-- cache_set: write one batch of entries.
-- KEYS: generation keys of the buckets written.  ARGV: token (the generation of a bucket that
-- has none yet), expired entries each written namespace sweeps, registry entries each bucket
-- sweeps, retired namespaces each bucket collects; then per bucket in KEYS order:
-- <namespaces>, then per namespace: N, <count>, then per entry: key, ttl, value.
-- ttl: '' for no expiry, '0' for an entry that is already expired (it is removed), else ms.
-- Every command that needs memory comes first: on a full server (noeviction) the first one is
-- refused and the batch writes nothing.
local token = ARGV[1]
local sweep, reg_budget, collect_budget = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])

-- Parse, create missing generations, and store the values and expiries.
local buckets = {}
local p = 5
for i = 1, #KEYS do
  local base = base_of(KEYS[i])
  local g = redis.call('GET', KEYS[i])
  if not g then
    g = token
    redis.call('SET', KEYS[i], g)
  end
  local spaces = {}
  local n = tonumber(ARGV[p])
  p = p + 1
  for _ = 1, n do
    local ns, count = ARGV[p], tonumber(ARGV[p + 1])
    p = p + 2
    local space = {ns = ns, count = count, untimed = {}, removed = {}, timed = false}
    local fields, expiries = {}, {}
    for _ = 1, count do
      local key, ttl, value = ARGV[p], ARGV[p + 1], ARGV[p + 2]
      p = p + 3
      if ttl == '' then
        fields[#fields + 1] = key
        fields[#fields + 1] = '0 ' .. value
        space.untimed[#space.untimed + 1] = key
      elseif ttl == '0' then
        space.removed[#space.removed + 1] = key
      else
        local at = ms(now() + tonumber(ttl))
        fields[#fields + 1] = key
        fields[#fields + 1] = at .. ' ' .. value
        expiries[#expiries + 1] = at
        expiries[#expiries + 1] = key
      end
    end
    -- a batch names each key once, so the lists do not overlap
    if #fields > 0 then chunked('HSET', entries_key(base, g, ns), fields) end
    if #expiries > 0 then
      chunked('ZADD', expiries_key(base, g, ns), expiries)
      space.timed = true
    end
    spaces[#spaces + 1] = space
  end
  buckets[i] = {base = base, g = g, spaces = spaces}
end

-- Removals, sweeps, each namespace's lifetime, then the buckets' housekeeping.
for i = 1, #KEYS do
  local base, g = buckets[i].base, buckets[i].g
  for _, space in ipairs(buckets[i].spaces) do
    local ns = space.ns
    local e, x = entries_key(base, g, ns), expiries_key(base, g, ns)
    if #space.removed > 0 then
      chunked('HDEL', e, space.removed)
      chunked('ZREM', x, space.removed)
    end
    if #space.untimed > 0 then chunked('ZREM', x, space.untimed) end
    local dead = redis.call('ZRANGEBYSCORE', x, '-inf', ms(now()), 'LIMIT', 0,
      sweep + 2 * space.count)
    if #dead > 0 then
      chunked('HDEL', e, dead)
      chunked('ZREM', x, dead)
    end
    settle(base, g, ns, space.timed or #space.removed > 0 or #dead > 0)
  end
  collect(base, collect_budget)
  sweep_registry(base, g, reg_budget)
end
return #KEYS
