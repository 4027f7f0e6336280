-- cache_clear: remove whole namespaces (exactly these: nested namespaces are others).
-- KEYS: generation keys of the buckets to clear.  ARGV: N of each namespace.
for i = 1, #KEYS do
  local g = redis.call('GET', KEYS[i])
  if g then
    local base = base_of(KEYS[i])
    for j = 1, #ARGV do drop(base, g, ARGV[j]) end
    chunked('ZREM', base .. 'n', ARGV)
  end
end
return #KEYS
