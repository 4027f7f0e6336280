-- get_delta_channel_history: walk the parent chain of one checkpoint, a slice of it per call.
-- KEYS: the thread's ten keys.  ARGV: N, cid or '' (latest), 's' (start: walk from the parent of
-- cid) or 'c' (continue: walk from cid itself), budget (ancestors plus pending writes read),
-- then the channels still open.
-- Returns {{{ {write blobs for the channels still open}, {channel, value blob, ...} } per
-- ancestor, nearest first}, the next ancestor to read ('' when the walk is over), {channels
-- still open}}, or a damage reply {0, cid, {what is missing}} (see damage.lua).  A channel
-- closes at the first ancestor holding a stored value for it.  The walk ends at an ancestor
-- that left no trace (pruned); one that left some but not all of its records is damage.
local ns_e, cid, how, budget = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local cur
if how == 'c' then
  cur = cid
else
  if cid == '' then
    cid = latest_cid(KEYS, ns_e)
    if not cid then
      local missing = gaps(KEYS, ns_e, nil)
      if missing then return {0, '', missing} end
      return {{}, '', {}}
    end
  end
  local m = redis.call('HGET', KEYS[K_M], ns_e .. NUL .. cid)
  if not m then
    local missing = gaps(KEYS, ns_e, cid) or gaps(KEYS, ns_e, nil)
    if missing then return {0, cid, missing} end
    return {{}, '', {}}
  end
  cur = cmsgpack.unpack(m)[1]
end
local open, n_open = {}, 0
for i = 5, #ARGV do
  if not open[ARGV[i]] then open[ARGV[i]] = true; n_open = n_open + 1 end
end
local out, used = {}, 0
while cur ~= '' and n_open > 0 and used < budget do
  local mb = redis.call('HGET', KEYS[K_M], ns_e .. NUL .. cur)
  if not mb then
    local missing = gaps(KEYS, ns_e, cur)
    if missing then return {0, cur, missing} end
    cur = ''
    break
  end
  local meta = cmsgpack.unpack(mb)
  local writes = {}
  local blobs, names = named_writes_of(KEYS, ns_e, cur)
  used = used + 1 + #blobs
  local missing = {}
  add_missing(missing, 'W', names, blobs)
  for _, blob in ipairs(blobs) do
    if blob and open[write_channel(blob)] then writes[#writes + 1] = blob end
  end
  local seeds = {}
  for i, ch in ipairs(meta[2]) do
    if open[ch] then
      local blob = redis.call('HGET', KEYS[K_V], meta[3][i])
      if not blob then
        missing[#missing + 1] = 'V' .. meta[3][i]
      elseif not is_empty_value(blob) then
        seeds[#seeds + 1] = ch
        seeds[#seeds + 1] = blob
      end
    end
  end
  if #missing > 0 then return {0, cur, missing} end
  for i = 1, #seeds, 2 do open[seeds[i]] = nil; n_open = n_open - 1 end
  out[#out + 1] = {writes, seeds}
  cur = meta[1]
end
if n_open == 0 then cur = '' end
local still = {}
if cur ~= '' then
  for i = 5, #ARGV do
    if open[ARGV[i]] then still[#still + 1] = ARGV[i]; open[ARGV[i]] = nil end
  end
end
return {out, cur, still}
