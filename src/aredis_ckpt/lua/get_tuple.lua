-- get_tuple: one checkpoint (the namespace's latest when cid is ''), with its channel values and
-- pending writes.  KEYS: the thread's ten keys.  ARGV: N, cid or '', ttl ms to refresh or 0.
-- Touches only the thread's keys, even when it refreshes their expiry.
-- Returns false, {cid, checkpoint blob, parent, {channels}, {value blobs}, {write blobs}}, or a
-- damage reply {0, cid or '', {what is missing}} (see damage.lua) for a checkpoint or thread missing
-- records: never false for a thread that lost its checkpoints' keys.
local ns_e, cid = ARGV[1], ARGV[2]
if cid == '' then
  cid = latest_cid(KEYS, ns_e)
  if not cid then
    local missing = gaps(KEYS, ns_e, nil)
    if missing then return {0, '', missing} end
    return false
  end
end
local f = ns_e .. NUL .. cid
local c = redis.call('HGET', KEYS[K_C], f)
local m = redis.call('HGET', KEYS[K_M], f)
if not (c and m) then
  local missing = gaps(KEYS, ns_e, cid) or gaps(KEYS, ns_e, nil)
  if missing then return {0, cid, missing} end
  return false
end
local meta = cmsgpack.unpack(m)
local values = values_of(KEYS, meta)
local writes, names = named_writes_of(KEYS, ns_e, cid)
local missing = {}
add_missing(missing, 'V', meta[3], values)
add_missing(missing, 'W', names, writes)
if #names == 0 then size_gaps(KEYS, missing, 'one', nil) end
if #missing > 0 then return {0, cid, missing} end
touch(KEYS, tonumber(ARGV[3]))
return {cid, c, meta[1], meta[2], values, writes}
