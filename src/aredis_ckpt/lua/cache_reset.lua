-- cache_reset: clear every namespace, and collect what earlier resets retired.
-- KEYS: generation keys of the buckets.  ARGV: mode, budget (namespaces to unlink in this call,
-- over all KEYS).  mode:
--   a token: the buckets' new generation.  A bucket switches to it at once (nothing older is
--     visible afterwards); its registry moves to "o:<old generation>", which joins the queue "q".
--   '': only collect what was retired.
--   '!': unlink the current generation's namespaces in place, budget at a time: what a full
--     server (noeviction) still allows, since it needs no memory.
-- Returns, per KEYS, 1 when namespaces are left to unlink, else 0.
local mode, budget = ARGV[1], tonumber(ARGV[2])
local out = {}
for i = 1, #KEYS do
  local base = base_of(KEYS[i])
  local more = false
  if mode == '!' then
    local g = redis.call('GET', KEYS[i])
    if g then
      local reg = base .. 'n'
      local popped = redis.call('ZPOPMIN', reg, budget)
      for j = 1, #popped, 2 do
        drop(base, g, popped[j])
        budget = budget - 1
      end
      more = redis.call('EXISTS', reg) == 1
    end
  elseif mode ~= '' then
    local g = redis.call('GET', KEYS[i])
    if g and g ~= mode then
      -- the command that needs memory first: refused on a full server, nothing changes
      redis.call('SET', KEYS[i], mode)
      local reg = base .. 'n'
      if redis.call('EXISTS', reg) == 1 then
        redis.call('RPUSH', base .. 'q', g)
        redis.call('RENAME', reg, base .. 'o:' .. g)
      end
    end
  end
  local used, left = collect(base, budget)
  budget = budget - used
  out[i] = (more or left) and 1 or 0
end
return out
