-- cache_get: the entries of one batch of keys.
-- KEYS: generation keys of the buckets read.  ARGV, per bucket in KEYS order: <namespaces>,
-- then per namespace: N, <count>, key * count.
-- Returns one reply per key in ARGV order: the entry "<expiry ms> <value>", or false when it is
-- missing or expired (an expired entry is deleted on the way).
local out = {}
local p = 1
for i = 1, #KEYS do
  local base = base_of(KEYS[i])
  local g = redis.call('GET', KEYS[i])
  local spaces = tonumber(ARGV[p])
  p = p + 1
  for _ = 1, spaces do
    local ns, count = ARGV[p], tonumber(ARGV[p + 1])
    p = p + 2
    if not g then
      for _ = 1, count do out[#out + 1] = false end
    else
      local e = entries_key(base, g, ns)
      local dead = {}
      local j = 0
      while j < count do
        local part = math.min(count - j, 4000)
        local found = redis.call('HMGET', e, unpack(ARGV, p + j, p + j + part - 1))
        for k = 1, part do
          local v = found[k]
          if v and expired(v) then
            dead[#dead + 1] = ARGV[p + j + k - 1]
            v = false
          end
          out[#out + 1] = v
        end
        j = j + part
      end
      if #dead > 0 then
        chunked('HDEL', e, dead)
        chunked('ZREM', expiries_key(base, g, ns), dead)
      end
    end
    p = p + count
  end
end
return out
