-- list: one page of checkpoints, newest first, filtered on metadata server-side.
-- mode 'n' (one namespace; KEYS: thread keys), 't' (all namespaces of a thread; KEYS: thread
-- keys), 'g' (every thread; KEYS: the index of every bucket, merged newest first) or 'x' (as 'n',
-- for one entry of a bucket's index read in its thread's slot: a cluster's list(None)).
-- ARGV: mode, max bound, min bound (ZREVRANGEBYLEX syntax), limit, scan budget, key prefix,
--       N (mode 'n'), exact cid or '', digest of a missing key's value (None), number of filter
--       pairs, then (key, value digest) pairs.
-- Returns {cursor ('' when exhausted),
--          {{cid, c, parent, {channels}, {values}, {writes}, namespace, thread}, ...}}; an item
-- may instead be a damage item {0, cid or '', {what is missing}, N, T or '', thread or false}
-- (see damage.lua): a checkpoint missing records, or (modes 'n', 't', 'x') a thread missing keys
-- where the page found nothing.  A bucket entry whose checkpoint left no trace in a whole (or
-- gone) thread is skipped: a cluster updates the buckets after the thread, and a thread's keys
-- expire before its bucket entries are swept.
local mode, maxb, minb = ARGV[1], ARGV[2], ARGV[3]
local limit, budget, prefix = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
local exact, NULL_DIGEST = ARGV[8], ARGV[9]
local filter = {}
for i = 0, tonumber(ARGV[10]) - 1 do filter[ARGV[11 + 2 * i]] = ARGV[12 + 2 * i] end

-- Members of the indexes between the bounds, newest first: one sorted set read in batches, or
-- (mode 'g') a merge of the buckets' sets through a binary heap of their next members.  Every
-- bucket holds members of the same shape, so one cursor bound serves them all.  The heap orders
-- members bytewise, as sorted sets do (Lua's own `<` follows the server's locale): by their
-- first twelve bytes as two exact numbers, then byte by byte.
local sources = {}
if mode == 'g' then
  for i = 1, #KEYS do sources[i] = KEYS[i] end
elseif mode == 't' then
  sources[1] = KEYS[K_J]
else
  sources[1] = KEYS[K_I]
end
local byte = string.byte
local function digit(x) if x then return x + 1 end return 0 end
local function key2(m)
  local a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12 = byte(m, 1, 12)
  local k1 = ((((digit(a1) * 257 + digit(a2)) * 257 + digit(a3)) * 257 + digit(a4)) * 257
    + digit(a5)) * 257 + digit(a6)
  local k2 = ((((digit(a7) * 257 + digit(a8)) * 257 + digit(a9)) * 257 + digit(a10)) * 257
    + digit(a11)) * 257 + digit(a12)
  return k1, k2
end
local bufs, pos, bounds, sizes, done, hk1, hk2 = {}, {}, {}, {}, {}, {}, {}
local function set_head(s)
  hk1[s], hk2[s] = key2(bufs[s][pos[s]])
end
local function refill(s)
  if done[s] then return false end
  local want = sizes[s]
  local got = redis.call('ZREVRANGEBYLEX', sources[s], bounds[s], minb, 'LIMIT', 0, want)
  if #got < want then done[s] = true end
  if #got == 0 then return false end
  bufs[s], pos[s] = got, 1
  bounds[s] = '(' .. got[#got]
  sizes[s] = math.min(want * 4, 256)
  return true
end
-- whether the head of source s sorts after the head of source t
local function after(s, t)
  if hk1[s] ~= hk1[t] then return hk1[s] > hk1[t] end
  if hk2[s] ~= hk2[t] then return hk2[s] > hk2[t] end
  local a, b = bufs[s][pos[s]], bufs[t][pos[t]]
  for i = 13, math.min(#a, #b) do
    local x, y = byte(a, i), byte(b, i)
    if x ~= y then return x > y end
  end
  return #a > #b
end
local heap = {}
local function sift_down(i)
  local n = #heap
  while true do
    local l, r, best = 2 * i, 2 * i + 1, i
    if l <= n and after(heap[l], heap[best]) then best = l end
    if r <= n and after(heap[r], heap[best]) then best = r end
    if best == i then return end
    heap[i], heap[best] = heap[best], heap[i]
    i = best
  end
end
local function sift_up(i)
  while i > 1 do
    local p = math.floor(i / 2)
    if not after(heap[i], heap[p]) then return end
    heap[i], heap[p] = heap[p], heap[i]
    i = p
  end
end
local merged = #sources > 1
for s = 1, #sources do
  bounds[s] = maxb
  if merged then sizes[s] = 4 else sizes[s] = 256 end
  if refill(s) then
    if merged then set_head(s) end
    heap[#heap + 1] = s
    sift_up(#heap)
  end
end
-- The next member (newest first), or nil when every source is exhausted.
local function next_member()
  local s = heap[1]
  if not s then return nil end
  local member = bufs[s][pos[s]]
  pos[s] = pos[s] + 1
  if pos[s] > #bufs[s] and not refill(s) then
    heap[1] = heap[#heap]
    heap[#heap] = nil
  elseif merged then
    set_head(s)
  end
  if merged and #heap > 1 then sift_down(1) end
  return member
end

local out, scanned, last = {}, 0, nil
local keys_cache, ns_cache, thread_cache, gaps_cache = {}, {}, {}, {}
local from_bucket = mode == 'g' or mode == 'x'
local function thread_of(k, tag)
  local tk = tag or ''
  local thread = thread_cache[tk]
  if thread == nil then
    thread = redis.call('GET', k[K_T])
    thread_cache[tk] = thread
  end
  return thread
end
-- Whole-thread checks, once per thread and page: three O(1) calls (five for bucket entries).
local function thread_checked(k, tag)
  local tk = tag or ''
  local found = gaps_cache[tk]
  if found == nil then
    local missing = {}
    -- read through its own index, a thread that lost both indexes lists nothing (see the end)
    size_gaps(k, missing, 'both', from_bucket and 'all' or 'ij')
    found = #missing > 0 and missing
    gaps_cache[tk] = found
  end
  return found
end
local function add_damage(k, tag, ns_e, cid, missing)
  out[#out + 1] = {0, cid, missing, ns_e, tag or '', thread_of(k, tag)}
end
-- A checkpoint named by an index but without metadata: damage, or a stale bucket entry.
local function unreadable(k, tag, ns_e, cid)
  local missing = gaps(k, ns_e, cid)
  if not missing and from_bucket then missing = gaps(k, ns_e, nil) end
  if missing then add_damage(k, tag, ns_e, cid, missing) end
end
while #out < limit and scanned < budget do
  local member = next_member()
  if not member then last = nil; break end
  scanned = scanned + 1
  last = member
  local k, ns_e, cid, tag = KEYS, nil, nil, nil
  if mode == 'n' or mode == 'x' then
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
    if not m then
      unreadable(k, tag, ns_e, cid)
    else
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
        local thread = thread_of(k, tag)
        local c = redis.call('HGET', k[K_C], f)
        local values = values_of(k, meta)
        local writes, names = named_writes_of(k, ns_e, cid)
        local missing = {}
        if not thread then missing[#missing + 1] = 'Kt' end
        local thread_missing = thread_checked(k, tag)
        if thread_missing then
          for _, x in ipairs(thread_missing) do missing[#missing + 1] = x end
        end
        if not ns then
          if redis.call('EXISTS', k[K_N]) == 0 then missing[#missing + 1] = 'Kn'
          else missing[#missing + 1] = 'N' end
        end
        if not c then missing[#missing + 1] = 'C' end
        add_missing(missing, 'V', meta[3], values)
        add_missing(missing, 'W', names, writes)
        if #missing > 0 then
          add_damage(k, tag, ns_e, cid, missing)
        else
          out[#out + 1] = {cid, c, meta[1], meta[2], values, writes, ns, thread}
        end
      end
    end
  end
end
if scanned == 0 and mode ~= 'g' then
  -- nothing in the thread's index here: a thread that lost keys must not read as empty
  if mode == 'x' then
    unreadable(KEYS, nil, ARGV[7], exact)
  else
    local missing = gaps(KEYS, mode == 'n' and ARGV[7] or nil, nil)
    if missing then add_damage(KEYS, nil, ARGV[7], exact, missing) end
  end
end
-- exhausted: nothing left after `last` (a page that stopped at its limit or budget may have more)
if last == nil or #heap == 0 then return {'', out} end
return {'(' .. last, out}
