-- get_delta_channel_history: walk the parent chain of one checkpoint in a single call.
-- KEYS: the thread's ten keys.  ARGV: N, cid or '' (latest), then channel names.
-- Returns {{ {write blobs for the channels still open}, {channel, value blob, ...} } per ancestor},
-- nearest ancestor first.  A channel closes at the first ancestor holding a stored value for it.
local ns_e, cid = ARGV[1], ARGV[2]
if cid == '' then
  cid = latest_cid(KEYS, ns_e)
  if not cid then return {} end
end
local m = redis.call('HGET', KEYS[K_M], ns_e .. NUL .. cid)
if not m then return {} end
local open, n_open = {}, 0
for i = 3, #ARGV do
  if not open[ARGV[i]] then open[ARGV[i]] = true; n_open = n_open + 1 end
end
local out = {}
local cur = cmsgpack.unpack(m)[1]
while cur ~= '' and n_open > 0 do
  local mb = redis.call('HGET', KEYS[K_M], ns_e .. NUL .. cur)
  if not mb then break end
  local meta = cmsgpack.unpack(mb)
  local writes = {}
  for _, blob in ipairs(writes_of(KEYS, ns_e, cur)) do
    if open[write_channel(blob)] then writes[#writes + 1] = blob end
  end
  local seeds = {}
  for i, ch in ipairs(meta[2]) do
    if open[ch] then
      local blob = redis.call('HGET', KEYS[K_V], meta[3][i])
      if blob and not is_empty_value(blob) then
        seeds[#seeds + 1] = ch
        seeds[#seeds + 1] = blob
      end
    end
  end
  for i = 1, #seeds, 2 do open[seeds[i]] = nil; n_open = n_open - 1 end
  out[#out + 1] = {writes, seeds}
  cur = meta[1]
end
return out
