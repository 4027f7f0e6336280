-- check_thread: one slice of a thread's damage check (see damage.lua).  The first slice
-- (cursor '') checks the thread's keys; then the namespaces are checked `budget` at a time
-- (cursor 'n:<HSCAN cursor>'); then the records of up to `budget` checkpoints per call
-- (cursor '-' or '(<j entry>': entries of j after it).  Reads only.
-- KEYS: the thread's ten keys.  ARGV: cursor ('' first), budget.
-- Returns {next cursor ('' when done), thread id or false,
--          {{cid or '', {what is missing}, N, namespace or false}, ...}, checkpoints in j}.
local cursor, budget = ARGV[1], tonumber(ARGV[2])
local found = {}
if cursor == '' or string.sub(cursor, 1, 2) == 'n:' then
  local scan = '0'
  if cursor == '' then
    local missing = gaps(KEYS, nil, nil) or {}
    size_gaps(KEYS, missing, nil, 'all')
    if #missing > 0 then found[#found + 1] = {'', missing, '', false} end
  else
    scan = string.sub(cursor, 3)
  end
  local page = redis.call('HSCAN', KEYS[K_N], scan, 'COUNT', budget)
  local entries = page[2]
  for x = 1, #entries, 2 do
    local ns_e = entries[x]
    local lo, hi = '[' .. ns_e .. NUL, '(' .. ns_e .. '\1'
    if #redis.call('ZRANGEBYLEX', KEYS[K_I], lo, hi, 'LIMIT', 0, 1) == 0
        and #redis.call('ZRANGEBYLEX', KEYS[K_WX], lo, hi, 'LIMIT', 0, 1) == 0 then
      found[#found + 1] = {'', {'X'}, ns_e, entries[x + 1]}
    end
  end
  if page[1] ~= '0' then
    return {'n:' .. page[1], redis.call('GET', KEYS[K_T]), found, redis.call('ZCARD', KEYS[K_J])}
  end
  cursor = '-'
end
local members = redis.call('ZRANGEBYLEX', KEYS[K_J], cursor, '+', 'LIMIT', 0, budget)
local ns_of = {}
for _, member in ipairs(members) do
  local cid, ns_e = split_last(member)
  local f = ns_e .. NUL .. cid
  local missing = {}
  if ns_of[ns_e] == nil then ns_of[ns_e] = redis.call('HGET', KEYS[K_N], ns_e) end
  if not ns_of[ns_e] then missing[#missing + 1] = 'N' end
  if redis.call('HEXISTS', KEYS[K_C], f) == 0 then missing[#missing + 1] = 'C' end
  local m = redis.call('HGET', KEYS[K_M], f)
  if not m then
    missing[#missing + 1] = 'M'
  else
    local meta = cmsgpack.unpack(m)
    add_missing(missing, 'V', meta[3], values_of(KEYS, meta))
  end
  if not redis.call('ZSCORE', KEYS[K_I], f) then missing[#missing + 1] = 'I' end
  local writes, names = named_writes_of(KEYS, ns_e, cid)
  add_missing(missing, 'W', names, writes)
  if #missing > 0 then found[#found + 1] = {cid, missing, ns_e, ns_of[ns_e]} end
end
local next_cursor = ''
if #members == budget then next_cursor = '(' .. members[#members] end
return {next_cursor, redis.call('GET', KEYS[K_T]), found, redis.call('ZCARD', KEYS[K_J])}
