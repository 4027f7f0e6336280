-- copy_read (copy_thread, source side): one page of a thread's pending writes or checkpoints.
-- KEYS: the source thread's ten keys.  ARGV: phase ('w' writes, 'c' checkpoints), cursor (a
-- ZRANGEBYLEX lower bound: '-' to start), budget (entries), byte budget.
-- Phase 'w' walks wx by name: every pending write, whatever its checkpoint.  Phase 'c' walks j
-- oldest first: each checkpoint whole, with the values it references (each value once per page).
-- Returns false when the thread does not exist, else
--   {next cursor ('' when the phase is done), {N, namespace, ...}, records}
-- records: phase 'w' {name, blob, ...}; phase 'c' {{N, cid, c, m, {field, value, ...}}, ...}.
-- Reads only: a page is a consistent view of its own entries; pages are not of one moment.
if redis.call('EXISTS', KEYS[K_T]) == 0 then return false end
local phase, cursor = ARGV[1], ARGV[2]
local budget, max_bytes = tonumber(ARGV[3]), tonumber(ARGV[4])
local index = KEYS[K_WX]
if phase == 'c' then index = KEYS[K_J] end
local spaces, space_seen = {}, {}
local function space(ns_e)
  if space_seen[ns_e] then return end
  space_seen[ns_e] = true
  local ns = redis.call('HGET', KEYS[K_N], ns_e)
  if ns then spaces[#spaces + 1] = ns_e; spaces[#spaces + 1] = ns end
end
local records, used, bytes, done = {}, 0, 0, false
local seen_values = {}
local function full() return used >= budget or bytes >= max_bytes end
-- one entry: a pending write's name, or a checkpoint's j member
local function take(name, blob)
  used = used + 1
  if phase == 'w' then
    if blob then
      records[#records + 1] = name
      records[#records + 1] = blob
      bytes = bytes + #name + #blob
      space(split_first(name))
    end
    return
  end
  local cid, ns_e = split_last(name)
  local f = ns_e .. NUL .. cid
  local m = redis.call('HGET', KEYS[K_M], f)
  local c = redis.call('HGET', KEYS[K_C], f)
  if not (m and c) then return end
  local fields = {}
  for _, vf in ipairs(cmsgpack.unpack(m)[3]) do
    if not seen_values[vf] then seen_values[vf] = true; fields[#fields + 1] = vf end
  end
  local values = {}
  if #fields > 0 then
    local blobs = hmget_all(KEYS[K_V], fields)
    for x, vf in ipairs(fields) do
      if blobs[x] then
        values[#values + 1] = vf
        values[#values + 1] = blobs[x]
        bytes = bytes + #vf + #blobs[x]
        used = used + 1
      end
    end
  end
  bytes = bytes + #f + #m + #c
  records[#records + 1] = {ns_e, cid, c, m, values}
  space(ns_e)
end
while not full() do
  local want = math.min(64, budget - used)
  local names = redis.call('ZRANGEBYLEX', index, cursor, '+', 'LIMIT', 0, want)
  local blobs = {}
  if phase == 'w' and #names > 0 then blobs = hmget_all(KEYS[K_W], names) end
  local n = 0
  for x, name in ipairs(names) do
    take(name, blobs[x])
    cursor = '(' .. name
    n = x
    if full() then break end
  end
  if n < #names then break end
  if #names < want then done = true; break end
end
if done then return {'', spaces, records} end
return {cursor, spaces, records}
