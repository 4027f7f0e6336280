-- Store helpers, prepended to every store script (see aredis_ckpt/_store_base.py for the layout).
-- KEYS[1] is the store's schema key "P:{%S}:schema"; every other key is built from its base
-- "P:{%S}:", so all of them share KEYS[1]'s hash slot.
local NULL = cjson.null
-- Marks a decoded empty JSON array: cjson decodes [] and {} to the same empty table, so an item
-- record lists the paths of its empty arrays and they are swapped for this marker.
local EL = {}
-- Between a namespace path N (labels joined by NUL) and a key in item names: N never holds it.
local KSEP = '\0\0'

local BASE = string.sub(KEYS[1], 1, #KEYS[1] - 6)
local K = {
  seq = BASE .. 'seq', ns = BASE .. 'ns', no = BASE .. 'no', it = BASE .. 'it',
  vec = BASE .. 'vec', exp = BASE .. 'exp', vmode = BASE .. 'vmode',
}
local function order_key(id) return BASE .. 'o:' .. id end
local function vset_key(id) return BASE .. 'vs:' .. id end

local NOW_US, NOW_MS
do
  local t = redis.call('TIME')
  NOW_US = tonumber(t[1]) * 1000000 + tonumber(t[2])
  NOW_MS = math.floor(NOW_US / 1000)
end

-- 'v' when the server has Redis 8 vector sets (probed once per prefix, then recorded), else 'x'.
local function vector_sets()
  local mode = redis.call('GET', K.vmode)
  if not mode then
    local probe = redis.pcall('VCARD', K.vmode)
    mode = (type(probe) == 'table' and probe.err) and 'x' or 'v'
    redis.call('SET', K.vmode, mode)
  end
  return mode == 'v'
end
local VSETS = false

local function split_field(f)
  local i = string.find(f, KSEP, 1, true)
  return string.sub(f, 1, i - 1), string.sub(f, i + 2)
end

local function prefixed(nspath, keys)
  local out = {}
  for j = 1, #keys do out[j] = nspath .. KSEP .. keys[j] end
  return out
end

local function hmget_all(key, fields)
  local out = {}
  local n = #fields
  local i = 1
  while i <= n do
    local j = math.min(i + 3999, n)
    local part = redis.call('HMGET', key, unpack(fields, i, j))
    for x = 1, j - i + 1 do out[i + x - 1] = part[x] end
    i = j + 1
  end
  return out
end

-- An item record: "<created_us> <updated_us> <ttl_ms> <n> <n bytes: msgpack empty-array paths><json>".
local function rec_ttl(rec)
  return tonumber(string.match(rec, '^%d+ %d+ (%d+) '))
end

local function mark_empties(v, paths)
  for _, p in ipairs(paths) do
    local node = v
    for i = 1, #p - 1 do
      local s = p[i]
      node = node[type(s) == 'number' and s + 1 or s]
    end
    local last = p[#p]
    node[type(last) == 'number' and last + 1 or last] = EL
  end
end

local function rec_value(rec)
  local n, pos = string.match(rec, '^%d+ %d+ %d+ (%d+) ()')
  n = tonumber(n)
  local v = cjson.decode(string.sub(rec, pos + n))
  if n > 0 then mark_empties(v, cmsgpack.unpack(string.sub(rec, pos, pos + n - 1))) end
  return v
end

-- Vectors of an item, stored as msgpack {path, norm, {floats}, path, norm, {floats}, ...}.
local function fp32(v)
  local parts = {}
  for i = 1, #v do parts[i] = struct.pack('<f', v[i]) end
  return table.concat(parts)
end

local function vset_add(id, key, blob)
  local t = cmsgpack.unpack(blob)
  local vs = vset_key(id)
  for j = 3, #t, 3 do
    redis.call('VADD', vs, 'FP32', fp32(t[j]), key .. '\0' .. (j / 3), 'Q8')
  end
end

local function vset_remove(id, key, blob)
  local t = cmsgpack.unpack(blob)
  local vs = vset_key(id)
  for j = 3, #t, 3 do redis.call('VREM', vs, key .. '\0' .. (j / 3)) end
end

-- Drop a namespace whose last item went.
local function drop_namespace(nspath, id)
  if redis.call('EXISTS', order_key(id)) == 0 then
    redis.call('ZREM', K.no, nspath)
    redis.call('ZREM', K.ns, nspath)
    if VSETS then redis.call('DEL', vset_key(id)) end
  end
end

-- Remove one item with its vectors, its order and expiry entries, and its namespace when it
-- was the last item there (or, with `emptied`, record it there to be dropped at the end).
local function remove_item(field, emptied)
  local nspath, key = split_field(field)
  local id = redis.call('ZSCORE', K.no, nspath)
  redis.call('HDEL', K.it, field)
  redis.call('ZREM', K.exp, field)
  local vec = redis.call('HGET', K.vec, field)
  if vec then
    redis.call('HDEL', K.vec, field)
    if VSETS and id then vset_remove(id, key, vec) end
  end
  if id then
    redis.call('ZREM', order_key(id), key)
    if emptied then
      emptied[nspath] = id
    else
      drop_namespace(nspath, id)
    end
  end
end

-- Remove up to `max` expired items; return whether no expired item is left.
local function sweep(max)
  local due = redis.call('ZRANGEBYSCORE', K.exp, '-inf', NOW_MS, 'LIMIT', 0, max)
  for _, f in ipairs(due) do remove_item(f) end
  if #due < max then return true, #due end
  return #redis.call('ZRANGEBYSCORE', K.exp, '-inf', NOW_MS, 'LIMIT', 0, 1) == 0, #due
end
