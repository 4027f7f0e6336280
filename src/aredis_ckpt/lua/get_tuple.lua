-- get_tuple: one checkpoint (the namespace's latest when cid is ''), with its channel values and
-- pending writes.  KEYS: the thread's ten keys.  ARGV: N, cid or '', ttl ms to refresh or 0.
-- Touches only the thread's keys, even when it refreshes their expiry.
-- Returns false, or {cid, checkpoint blob, parent, {channels}, {value blobs}, {write blobs}}.
local ns_e, cid = ARGV[1], ARGV[2]
if cid == '' then
  cid = latest_cid(KEYS, ns_e)
  if not cid then return false end
end
local f = ns_e .. NUL .. cid
local c = redis.call('HGET', KEYS[K_C], f)
if not c then return false end
local meta = cmsgpack.unpack(redis.call('HGET', KEYS[K_M], f))
touch(KEYS, tonumber(ARGV[3]))
return {cid, c, meta[1], meta[2], values_of(KEYS, meta), writes_of(KEYS, ns_e, cid)}
