-- Damage checks (docs/reliability.md, "Damage is named"), prepended after lib.lua to the read
-- scripts only (get_tuple, list, delta_history, check_thread): the write scripts do not pay for
-- defining them, and the read scripts define only four functions (each costs every call).
--
-- Records a whole thread always holds together: `t` and `n` exist while any key of the thread
-- does; a checkpoint has its `c` and `m` fields and its `i` and `j` entries (so the keys c m i j
-- exist together, and v, r only beside them); every value field its meta names exists in `v`
-- (channels without a value store an "empty" marker); every `wx` name has its `w` field, and
-- the two keys exist together; a namespace in `n` has checkpoints or pending writes.  A read
-- that finds one missing replies {0, cid or '', {what...}} (a damage reply: data, never a Lua
-- error) and the client raises DamagedThreadError.  What is missing: 'K' .. key name (the whole
-- key), 'C' / 'M' (the checkpoint's c / m field), 'I' / 'J' (its i / j entry), 'N' (the
-- namespace's n field), 'X' (the namespace's checkpoints: its n field is all that is left),
-- 'Q' .. counts (c m i j disagree in number), 'V' .. value field, 'W' .. write name.

-- Append kind .. name for each name whose fetched blob is missing (nil checks only).
local function add_missing(missing, kind, names, blobs)
  for x = 1, #names do
    if not blobs[x] then missing[#missing + 1] = kind .. names[x] end
  end
end

-- Pending writes of one checkpoint: their blobs and names (see writes_of).
local function named_writes_of(k, ns_e, cid)
  local names = write_names(k, ns_e, cid)
  if #names == 0 then return {}, names end
  return hmget_all(k[K_W], names), names
end

-- For reads that found nothing (rare paths; a few O(1) calls), what is missing, or nil:
-- with a cid, the records that checkpoint lacks when it left any trace (c, m, i or j);
-- without one, the keys a thread lacks (with ns_e also the namespace's records) when it has
-- any key left.
local function gaps(k, ns_e, cid)
  local missing = {}
  if cid then
    local f = ns_e .. NUL .. cid
    local has = {
      C = redis.call('HEXISTS', k[K_C], f) == 1,
      M = redis.call('HEXISTS', k[K_M], f) == 1,
      I = redis.call('ZSCORE', k[K_I], f) ~= false,
      J = redis.call('ZSCORE', k[K_J], cid .. NUL .. ns_e) ~= false,
    }
    if not (has.C or has.M or has.I or has.J) then return nil end
    for _, x in ipairs({'C', 'M', 'I', 'J'}) do
      if not has[x] then missing[#missing + 1] = x end
    end
  else
    if redis.call('EXISTS', unpack(k, 1, 10)) == 0 then return nil end
    local want = {}
    if redis.call('EXISTS', k[K_T], k[K_N]) < 2 then want = {K_T, K_N} end
    local data = redis.call('EXISTS', k[K_C], k[K_M], k[K_I], k[K_J])
    if data < 4 and (data > 0 or redis.call('EXISTS', k[K_V], k[K_R]) > 0) then
      for _, x in ipairs({K_C, K_M, K_I, K_J}) do want[#want + 1] = x end
    end
    if redis.call('EXISTS', k[K_W], k[K_WX]) == 1 then
      want[#want + 1] = K_W
      want[#want + 1] = K_WX
    end
    for _, x in ipairs(want) do
      if redis.call('EXISTS', k[x]) == 0 then missing[#missing + 1] = 'K' .. NAMES[x] end
    end
    if #missing == 0 and ns_e and redis.call('HEXISTS', k[K_N], ns_e) == 1 then
      local lo, hi = '[' .. ns_e .. NUL, '(' .. ns_e .. '\1'
      if #redis.call('ZRANGEBYLEX', k[K_I], lo, hi, 'LIMIT', 0, 1) == 0
          and #redis.call('ZRANGEBYLEX', k[K_WX], lo, hi, 'LIMIT', 0, 1) == 0 then
        missing[1] = 'X'
      end
    end
  end
  if #missing == 0 then return nil end
  return missing
end

-- Whole-thread sizes, appended to `missing`.  `w`: the two pending-write keys exist together
-- (a read that found no write names for its checkpoint still tells a thread without writes
-- from one that lost `wx`): 'one' checks for a lost `wx` (one O(1) call where `wx` exists, two
-- where it does not), 'both' for either (one call: EXISTS counts wx twice, 0 or 3 when whole).
-- `counts`: 'ij' the two checkpoint indexes hold as many entries (two O(1) calls), 'all' as
-- many as `c` and `m` hold records (four).
local function size_gaps(k, missing, w, counts)
  if w == 'both' then
    local n = redis.call('EXISTS', k[K_W], k[K_WX], k[K_WX])
    if n == 1 then
      missing[#missing + 1] = 'Kwx'
    elseif n == 2 then
      missing[#missing + 1] = 'Kw'
    end
  elseif w == 'one' and redis.call('EXISTS', k[K_WX]) == 0
      and redis.call('EXISTS', k[K_W]) == 1 then
    missing[#missing + 1] = 'Kwx'
  end
  if counts then
    local i, j = redis.call('ZCARD', k[K_I]), redis.call('ZCARD', k[K_J])
    if counts == 'ij' then
      if i ~= j then missing[#missing + 1] = 'Q? ? ' .. i .. ' ' .. j end
    else
      local c, m = redis.call('HLEN', k[K_C]), redis.call('HLEN', k[K_M])
      if c ~= m or m ~= i or i ~= j then
        missing[#missing + 1] = 'Q' .. c .. ' ' .. m .. ' ' .. i .. ' ' .. j
      end
    end
  end
end
