-- list: one page of checkpoints, newest first, filtered on metadata server-side.
-- mode 'n' (one namespace; KEYS: thread keys), 't' (all namespaces of a thread; KEYS: thread
-- keys) or 'g' (every thread; KEYS[1]: the global index).
-- ARGV: mode, max bound, min bound (ZREVRANGEBYLEX syntax), limit, scan budget, key prefix,
--       N (mode 'n'), exact cid or '', digest of a missing key's value (None), number of filter
--       pairs, then (key, value digest) pairs.
-- Returns {cursor ('' when exhausted),
--          {{cid, c, parent, {channels}, {values}, {writes}, namespace, thread}, ...}}.
local mode, maxb, minb = ARGV[1], ARGV[2], ARGV[3]
local limit, budget, prefix = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
local exact, NULL_DIGEST = ARGV[8], ARGV[9]
local filter = {}
for i = 0, tonumber(ARGV[10]) - 1 do filter[ARGV[11 + 2 * i]] = ARGV[12 + 2 * i] end

local index
if mode == 'g' then index = KEYS[1] elseif mode == 't' then index = KEYS[K_J] else index = KEYS[K_I] end

local out, scanned, last, exhausted = {}, 0, nil, false
local keys_cache, ns_cache, thread_cache = {}, {}, {}
while #out < limit and scanned < budget do
  local want = math.min(256, budget - scanned)
  local batch = redis.call('ZREVRANGEBYLEX', index, maxb, minb, 'LIMIT', 0, want)
  local full = false
  for _, member in ipairs(batch) do
    scanned = scanned + 1
    last = member
    local k, ns_e, cid, tag = KEYS, nil, nil, nil
    if mode == 'n' then
      ns_e, cid = split_first(member)
    elseif mode == 't' then
      cid, ns_e = split_last(member)
    else
      local rest
      rest, ns_e = split_last(member)
      cid, tag = split_last(rest)
      k = keys_cache[tag]
      if not k then
        k = thread_keys(prefix .. ':{' .. tag .. '}:')
        keys_cache[tag] = k
      end
    end
    if exact == '' or exact == cid then
      local f = ns_e .. NUL .. cid
      local m = redis.call('HGET', k[K_M], f)
      if m then
        local meta = cmsgpack.unpack(m)
        local ok = true
        for key, want_value in pairs(filter) do
          local have = meta[4][key]
          if have == nil then have = NULL_DIGEST end
          if have ~= want_value then ok = false; break end
        end
        if ok then
          local nk = k[K_N] .. NUL .. ns_e
          local ns = ns_cache[nk]
          if ns == nil then
            ns = redis.call('HGET', k[K_N], ns_e)
            ns_cache[nk] = ns
          end
          local tk = tag or ''
          local thread = thread_cache[tk]
          if thread == nil then
            thread = redis.call('GET', k[K_T])
            thread_cache[tk] = thread
          end
          out[#out + 1] = {cid, redis.call('HGET', k[K_C], f), meta[1], meta[2], values_of(k, meta),
                           writes_of(k, ns_e, cid), ns, thread}
          if #out >= limit then full = true; break end
        end
      end
    end
  end
  if full then break end
  if #batch < want then exhausted = true; break end
  maxb = '(' .. last
end
if exhausted or last == nil then return {'', out} end
return {'(' .. last, out}
