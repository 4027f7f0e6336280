-- Damage checks of the read scripts (get_tuple, list, delta_history, check_thread), prepended
-- after lib.lua to those scripts only: the write scripts do not pay for defining them.
-- Damage (docs/reliability.md, "Damage is named").  Records a whole thread always holds
-- together: `t` and `n` exist while any key of the thread does; a checkpoint has its `c` and `m`
-- fields and its `i` and `j` entries (so the keys c m i j exist together, and v, r only beside
-- them); every value field its meta names exists in `v` (channels without a value store an
-- "empty" marker); every `wx` name has its `w` field; a namespace in `n` has checkpoints or
-- pending writes.  A read that finds one missing replies {0, cid or '', {what...}} (a damage
-- reply: data, never a Lua error) and the client raises DamagedThreadError.  What is missing:
-- 'K' .. key name (the whole key), 'C' / 'M' (the checkpoint's c / m field), 'I' / 'J' (its i /
-- j entry), 'N' (the namespace's n field), 'X' (the namespace's checkpoints: its n field is all
-- that is left), 'Q' .. counts (c m i j disagree in number), 'V' .. value field, 'W' .. write
-- name.
local function damaged(cid, missing)
  return {0, cid, missing}
end

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

-- The records a checkpoint lacks, when it has any left (nil: no trace of it at all).
local function checkpoint_gaps(k, ns_e, cid)
  local f = ns_e .. NUL .. cid
  local has = {
    C = redis.call('HEXISTS', k[K_C], f) == 1,
    M = redis.call('HEXISTS', k[K_M], f) == 1,
    I = redis.call('ZSCORE', k[K_I], f) ~= false,
    J = redis.call('ZSCORE', k[K_J], cid .. NUL .. ns_e) ~= false,
  }
  if not (has.C or has.M or has.I or has.J) then return nil end
  local missing = {}
  for _, x in ipairs({'C', 'M', 'I', 'J'}) do
    if not has[x] then missing[#missing + 1] = x end
  end
  if #missing == 0 then return nil end
  return missing
end

-- Append 'K' .. name for each of the keys at positions `xs` that does not exist.
local function keys_missing(k, xs, missing)
  for _, x in ipairs(xs) do
    if redis.call('EXISTS', k[x]) == 0 then missing[#missing + 1] = 'K' .. NAMES[x] end
  end
end

-- The keys (and, with ns_e, the namespace records) a thread lacks, or nil when it is whole or
-- has no key at all.  For reads that found nothing: one call for a thread that does not exist,
-- four or five O(1) calls for one that does.
local function thread_gaps(k, ns_e)
  if redis.call('EXISTS', unpack(k, 1, 10)) == 0 then return nil end
  local missing = {}
  if redis.call('EXISTS', k[K_T], k[K_N]) < 2 then keys_missing(k, {K_T, K_N}, missing) end
  local data = redis.call('EXISTS', k[K_C], k[K_M], k[K_I], k[K_J])
  if data < 4 and (data > 0 or redis.call('EXISTS', k[K_V], k[K_R]) > 0) then
    keys_missing(k, {K_C, K_M, K_I, K_J}, missing)
  end
  if redis.call('EXISTS', k[K_W], k[K_WX]) == 1 then keys_missing(k, {K_W, K_WX}, missing) end
  if #missing == 0 and ns_e and redis.call('HEXISTS', k[K_N], ns_e) == 1 then
    local lo, hi = '[' .. ns_e .. NUL, '(' .. ns_e .. '\1'
    if #redis.call('ZRANGEBYLEX', k[K_I], lo, hi, 'LIMIT', 0, 1) == 0
        and #redis.call('ZRANGEBYLEX', k[K_WX], lo, hi, 'LIMIT', 0, 1) == 0 then
      missing[1] = 'X'
    end
  end
  if #missing == 0 then return nil end
  return missing
end

-- The two pending-write keys exist together.  A read that found no write names for its
-- checkpoint still tells a thread without writes from one that lost `wx`: one O(1) call where
-- `wx` exists (a thread that ever had pending writes), two where it does not.  With `both`,
-- one call also finds a lost `w` (EXISTS counts wx twice: 0 or 3 for a whole pair).
local function writes_gaps(k, missing, both)
  if both then
    local n = redis.call('EXISTS', k[K_W], k[K_WX], k[K_WX])
    if n == 1 then
      missing[#missing + 1] = 'Kwx'
    elseif n == 2 then
      missing[#missing + 1] = 'Kw'
    end
    return
  end
  if redis.call('EXISTS', k[K_WX]) == 1 then return end
  if redis.call('EXISTS', k[K_W]) == 1 then missing[#missing + 1] = 'Kwx' end
end

-- A whole thread holds as many entries in each of its checkpoint indexes (two O(1) calls);
-- with `all`, as many checkpoint and metadata records too (two more).
local function count_gaps(k, missing, all)
  local i, j = redis.call('ZCARD', k[K_I]), redis.call('ZCARD', k[K_J])
  if not all then
    if i ~= j then missing[#missing + 1] = 'Q? ? ' .. i .. ' ' .. j end
    return
  end
  local c, m = redis.call('HLEN', k[K_C]), redis.call('HLEN', k[K_M])
  if c ~= m or m ~= i or i ~= j then
    missing[#missing + 1] = 'Q' .. c .. ' ' .. m .. ' ' .. i .. ' ' .. j
  end
end
