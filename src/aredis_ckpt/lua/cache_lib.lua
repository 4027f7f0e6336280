-- Node cache helpers, prepended to every cache script (layout: aredis_ckpt/_cache_base.py).
-- Each KEYS[i] is the generation key "P:{%C<p>:<b>}:g" of one bucket b; every other key of the
-- bucket is built from its base "P:{%C<p>:<b>}:", so it shares KEYS[i]'s hash slot.
-- The server's clock in ms, read on first use (a read of entries without expiry needs none).
local NOW_MS
local function now()
  if not NOW_MS then
    local t = redis.call('TIME')
    NOW_MS = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  end
  return NOW_MS
end

local function base_of(gkey) return string.sub(gkey, 1, #gkey - 1) end
-- The entries of namespace ns in generation g (HASH key -> "<expiry ms> <value>"), and the
-- expiries of those that have one (ZSET key -> expiry ms).
local function entries_key(base, g, ns) return base .. 'e:' .. g .. ':' .. ns end
local function expiries_key(base, g, ns) return base .. 'x:' .. g .. ':' .. ns end
local function ms(n) return string.format('%.0f', n) end

-- Commands take at most ~8000 arguments from unpack(): send long lists in parts (of an even
-- length, for lists of pairs).
local function chunked(cmd, key, items)
  local n = #items
  local i = 1
  while i <= n do
    local j = math.min(i + 3999, n)
    redis.call(cmd, key, unpack(items, i, j))
    i = j + 1
  end
end

-- An entry is "<expiry ms> <value>", expiry 0 meaning none; it is a hit while NOW < expiry.
-- A malformed entry is returned as it is, for the client to report.
local function expired(entry)
  if string.byte(entry, 1) == 48 and string.byte(entry, 2) == 32 then return false end -- "0 "
  local at = tonumber(string.match(entry, '^(%d+) '))
  return at ~= nil and at ~= 0 and at <= now()
end

-- Unlink a namespace's two keys (UNLINK frees a large hash off the main thread).
local function drop(base, g, ns)
  redis.call('UNLINK', entries_key(base, g, ns), expiries_key(base, g, ns))
end

-- After a write to namespace ns: when every entry has an expiry, both keys expire with the last
-- one, and the registry records that time; otherwise they persist and the registry says +inf.
-- An emptied namespace leaves the registry.  timed: the write set or removed an entry with an
-- expiry (else it only added entries without one, and the namespace is persistent for sure).
local function settle(base, g, ns, timed)
  local e, x, reg = entries_key(base, g, ns), expiries_key(base, g, ns), base .. 'n'
  if not timed then
    if redis.call('ZSCORE', reg, ns) ~= 'inf' then
      redis.call('PERSIST', e)
      redis.call('PERSIST', x)
      redis.call('ZADD', reg, 'inf', ns)
    end
    return
  end
  local held = redis.call('HLEN', e)
  if held == 0 then
    redis.call('UNLINK', x)
    redis.call('ZREM', reg, ns)
    return
  end
  if redis.call('ZCARD', x) == held then
    local last = ms(tonumber(redis.call('ZRANGE', x, -1, -1, 'WITHSCORES')[2]))
    redis.call('PEXPIREAT', e, last)
    redis.call('PEXPIREAT', x, last)
    redis.call('ZADD', reg, last, ns)
  else
    redis.call('PERSIST', e)
    redis.call('PERSIST', x)
    redis.call('ZADD', reg, 'inf', ns)
  end
end

-- Namespaces whose every entry has expired: their keys are gone already (or go now); forget them.
local function sweep_registry(base, g, budget)
  local reg = base .. 'n'
  local dead = redis.call('ZRANGEBYSCORE', reg, '-inf', '(' .. ms(now()), 'LIMIT', 0, budget)
  for _, ns in ipairs(dead) do drop(base, g, ns) end
  if #dead > 0 then chunked('ZREM', reg, dead) end
end

-- Unlink up to budget namespaces of retired generations (queued by a clear of everything).
-- Returns how many were unlinked, and whether any are left.
local function collect(base, budget)
  local queue = base .. 'q'
  local used = 0
  while used < budget do
    local old = redis.call('LINDEX', queue, 0)
    if not old then return used, false end
    local reg = base .. 'o:' .. old
    local popped = redis.call('ZPOPMIN', reg, budget - used)
    for i = 1, #popped, 2 do
      drop(base, old, popped[i])
      used = used + 1
    end
    if redis.call('EXISTS', reg) == 0 then redis.call('LPOP', queue) end
  end
  return used, redis.call('EXISTS', queue) == 1
end
