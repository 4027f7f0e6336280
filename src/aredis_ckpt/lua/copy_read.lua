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
-- a batch of entries (pending writes' names, or checkpoints' j members): how many it took
local function take(names)
  if phase == 'w' then
    local blobs = hmget_all(KEYS[K_W], names)
    for x, name in ipairs(names) do
      used = used + 1
      cursor = '(' .. name
      local blob = blobs[x]
      if blob then
        records[#records + 1] = name
        records[#records + 1] = blob
        bytes = bytes + #name + #blob
        space(split_first(name))
      end
      if full() then return x end
    end
    return #names
  end
  local fs, nss, cids = {}, {}, {}
  for x, name in ipairs(names) do
    local cid, ns_e = split_last(name)
    fs[x], nss[x], cids[x] = ns_e .. NUL .. cid, ns_e, cid
  end
  local ms, cs = hmget_all(KEYS[K_M], fs), hmget_all(KEYS[K_C], fs)
  for x, name in ipairs(names) do
    used = used + 1
    cursor = '(' .. name
    local m, c = ms[x], cs[x]
    if m and c then
      local fields = {}
      for _, vf in ipairs(cmsgpack.unpack(m)[3]) do
        if not seen_values[vf] then seen_values[vf] = true; fields[#fields + 1] = vf end
      end
      local values = {}
      if #fields > 0 then
        local blobs = hmget_all(KEYS[K_V], fields)
        for y, vf in ipairs(fields) do
          if blobs[y] then
            values[#values + 1] = vf
            values[#values + 1] = blobs[y]
            bytes = bytes + #vf + #blobs[y]
            used = used + 1
          end
        end
      end
      bytes = bytes + #fs[x] + #m + #c
      records[#records + 1] = {nss[x], cids[x], c, m, values}
      space(nss[x])
    end
    if full() then return x end
  end
  return #names
end
while not full() do
  local want = math.min(64, budget - used)
  local names = redis.call('ZRANGEBYLEX', index, cursor, '+', 'LIMIT', 0, want)
  if #names == 0 then done = true; break end
  local n = take(names)
  if n < #names then break end
  if #names < want then done = true; break end
end
if done then return {'', spaces, records} end
return {cursor, spaces, records}
