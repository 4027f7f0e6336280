-- cache_reset: clear every namespace, and collect what earlier resets retired.
-- KEYS: generation keys of the buckets.  ARGV: token (the buckets' new generation; '' only
-- collects), budget (retired namespaces to unlink in this call, over all KEYS).
-- A bucket switches to the new generation at once (nothing older is visible afterwards); its
-- registry moves to "o:<old generation>" and the old generation joins the queue "q".
-- Returns, per KEYS, 1 when retired namespaces are left to collect, else 0.
local token, budget = ARGV[1], tonumber(ARGV[2])
local out = {}
for i = 1, #KEYS do
  local base = base_of(KEYS[i])
  if token ~= '' then
    local g = redis.call('GET', KEYS[i])
    if g and g ~= token then
      local reg = base .. 'n'
      if redis.call('EXISTS', reg) == 1 then
        redis.call('RENAME', reg, base .. 'o:' .. g)
        redis.call('RPUSH', base .. 'q', g)
      end
      redis.call('SET', KEYS[i], token)
    end
  end
  local used, more = collect(base, budget)
  budget = budget - used
  out[i] = more and 1 or 0
end
return out
