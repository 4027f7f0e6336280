-- One store batch: every read (get, search, list_namespaces, sweep) in the order given, then
-- every write, atomically when it fits the budget.  ARGV: [1] msgpack reads, [2] msgpack puts,
-- [3] most expired items to sweep first, [4] '1' when searches may use vector sets, [5] the
-- budget: how many items (or namespaces) this call may read (a ranked search's item, a swept
-- item cost more; see SWEEP_COST below).
-- Returns {0, results} when every read is answered and the writes are applied, or {k, results}
-- when the budget ran out in read k: results[1..k-1] are answered, results[k] is
-- {state (msgpack), partial answer} and nothing is written; the client sends reads k.. again
-- with that state appended to read k (and the same writes), and so on.
local READS = cmsgpack.unpack(ARGV[1])
local PUTS = cmsgpack.unpack(ARGV[2])
local ALLOW_VSIM = ARGV[4] == '1'
local LEFT = tonumber(ARGV[5])
-- budget units: a swept item (several deletes) costs SWEEP_COST, a ranked item one more per
-- DIMS_PER_UNIT dimensions of the query, a filtered item one more per KB of its record (the
-- filter decodes it); measured on Redis 7.0 (bench/big_threads.py, docs/reliability.md)
local SWEEP_COST, DIMS_PER_UNIT, REC_BYTES_PER_UNIT = 8, 48, 1024
VSETS = vector_sets()

-- The state a read was resumed with (its last element), or nil.
local STATE_AT = {s = 8, l = 6, x = 2}
local function state_of(op)
  local blob = op[STATE_AT[op[1]] or 0]
  if type(blob) == 'string' then return cmsgpack.unpack(blob) end
  return nil
end

local CLEAN, SWEPT = sweep(
  math.max(1, math.min(tonumber(ARGV[3]), math.floor(LEFT / SWEEP_COST))))
LEFT = LEFT - SWEEP_COST * SWEPT
for _, op in ipairs(READS) do
  if op[1] == 'l' or op[1] == 'x' then
    -- listing namespaces must not see one whose items have all expired: sweep them all first
    -- (in slices: a call that runs out of budget hands back its first read unanswered)
    while not CLEAN and LEFT > 0 do
      local n
      CLEAN, n = sweep(math.max(1, math.min(1000, math.floor(LEFT / SWEEP_COST))))
      SWEPT = SWEPT + n
      LEFT = LEFT - SWEEP_COST * math.max(n, 1)
    end
    if not CLEAN then
      local first = READS[1]
      local st = state_of(first)
      if first[1] == 'x' then st = {(st and st[1] or 0) + SWEPT} end
      return {1, {{st and cmsgpack.pack(st) or false, {}}}}
    end
    break
  end
end

local function live(field, rec)
  if CLEAN then return true end
  if rec_ttl(rec) == 0 then return true end
  local s = redis.call('ZSCORE', K.exp, field)
  return (not s) or tonumber(s) > NOW_MS
end

local function touch(field, rec)
  local ttl = rec_ttl(rec)
  if ttl > 0 then redis.call('ZADD', K.exp, NOW_MS + ttl, field) end
end

-- ------------------------------------------------------------------ filters
-- Python's semantics (langgraph.store.memory._compare_values) over cjson-decoded values.  The
-- client compiles the filter to tagged nodes (see _store_base.compile_filter).

-- A plain string error (Redis 6.2 cannot raise error tables from nested calls); the client
-- finds the marker and raises the Python exception.
local function fail(kind, msg)
  error('aredis-store:' .. kind .. ':' .. msg .. ':aredis-store-end', 0)
end

local function is_none(a) return a == nil or a == NULL end
local function is_list(a) return a == EL or (type(a) == 'table' and a[1] ~= nil) end
local function is_dict(a) return type(a) == 'table' and a ~= EL and a[1] == nil end
local function list_len(a) if a == EL then return 0 end return #a end

local function type_name(a)
  if is_none(a) then return 'NoneType' end
  if type(a) == 'boolean' then return 'bool' end
  if type(a) == 'number' then return 'float' end
  if type(a) == 'string' then return 'str' end
  if is_list(a) then return 'list' end
  return 'dict'
end

-- Python's `x == y` for a stored value and a compiled filter value.
local function eqv(a, n)
  local t = n[1]
  if t == 'z' then return is_none(a) end
  if is_none(a) then return false end
  if t == 's' then return type(a) == 'string' and a == n[2] end
  if t == 'n' or t == 'b' then
    local x = n[2]
    if t == 'b' then x = x and 1 or 0 end
    if type(a) == 'number' then return a == x end
    if type(a) == 'boolean' then return (a and 1 or 0) == x end
    return false
  end
  if t == 'L' then
    local items = n[2]
    if not is_list(a) or list_len(a) ~= #items then return false end
    for i = 1, #items do
      if not eqv(a[i], items[i]) then return false end
    end
    return true
  end
  -- 'D': same keys, equal values
  local kv = n[2]
  if not is_dict(a) then return false end
  local count = 0
  for _ in pairs(a) do count = count + 1 end
  if count * 2 ~= #kv then return false end
  for i = 1, #kv, 2 do
    local v = a[kv[i]]
    if v == nil or not eqv(v, kv[i + 1]) then return false end
  end
  return true
end

-- Python's float() of a stored value: numbers, booleans and numeric strings.
local function digitpart(s)
  return s ~= '' and string.find(s, '^%d') ~= nil and string.find(s, '[^%d_]') == nil
    and string.find(s, '__', 1, true) == nil and string.sub(s, -1) ~= '_'
end

local function parse_float(raw)
  local s = string.match(raw, '^[ \t\n\r\f\v]*(.-)[ \t\n\r\f\v]*$')
  local sign, body = string.match(s, '^([+-]?)(.*)$')
  local low = string.lower(body)
  local neg = sign == '-'
  if low == 'inf' or low == 'infinity' then return neg and -math.huge or math.huge end
  if low == 'nan' then return 0 / 0 end
  local mant, exp = body, nil
  local e = string.find(body, '[eE]')
  if e then mant, exp = string.sub(body, 1, e - 1), string.sub(body, e + 1) end
  local ip, fp = mant, nil
  local dot = string.find(mant, '.', 1, true)
  if dot then ip, fp = string.sub(mant, 1, dot - 1), string.sub(mant, dot + 1) end
  local ok = (ip == '' or digitpart(ip)) and (fp == nil or fp == '' or digitpart(fp))
    and not (ip == '' and (fp == nil or fp == ''))
  if ok and exp then
    local esign, edigits = string.match(exp, '^([+-]?)(.*)$')
    ok = digitpart(edigits)
    exp = esign .. edigits
  end
  if not ok then fail('ValueError', 'could not convert string to float: ' .. raw) end
  local text = string.gsub(mant, '_', '')
  if exp then text = text .. 'e' .. string.gsub(exp, '_', '') end
  local x = tonumber(text)
  if x == nil then fail('ValueError', 'could not convert string to float: ' .. raw) end
  return neg and -x or x
end

local function to_float(a)
  local t = type(a)
  if t == 'number' then return a end
  if t == 'boolean' then return a and 1 or 0 end
  if t == 'string' then return parse_float(a) end
  fail('TypeError', "float() argument must be a string or a real number, not '" .. type_name(a) .. "'")
end

local COMPARE = {
  ['$gt'] = function(x, y) return x > y end,
  ['$gte'] = function(x, y) return x >= y end,
  ['$lt'] = function(x, y) return x < y end,
  ['$lte'] = function(x, y) return x <= y end,
}

-- langgraph.store.memory._compare_values
local function cmp(a, f)
  local t = f[1]
  if t == 'v' then return eqv(a, f[2]) end
  if t == 'o' then
    local ops = f[2]
    for i = 1, #ops, 2 do
      local op, arg = ops[i], ops[i + 1]
      local ok
      if op == '$eq' then
        ok = eqv(a, arg)
      elseif op == '$ne' then
        ok = not eqv(a, arg)
      elseif COMPARE[op] then
        local x = to_float(a)
        if arg[1] == 'F' then fail(arg[2], arg[3]) end
        ok = COMPARE[op](x, arg[2])
      else
        fail('ValueError', 'Unsupported operator: ' .. op)
      end
      if not ok then return false end
    end
    return true
  end
  if t == 'd' then
    if not is_dict(a) then return false end
    local kv = f[2]
    for i = 1, #kv, 2 do
      if not cmp(a[kv[i]], kv[i + 1]) then return false end
    end
    return true
  end
  -- 'l'
  local items = f[2]
  if not is_list(a) or list_len(a) ~= #items then return false end
  for i = 1, #items do
    if not cmp(a[i], items[i]) then return false end
  end
  return true
end

local function passes(rec, filter)
  if not filter then return true end
  return cmp(rec_value(rec), filter)
end

-- ------------------------------------------------------------------ namespaces

local function split_labels(path)
  local labels = {}
  if path == '' then return labels end
  local pos = 1
  while true do
    local i = string.find(path, '\0', pos, true)
    if not i then
      labels[#labels + 1] = string.sub(path, pos)
      return labels
    end
    labels[#labels + 1] = string.sub(path, pos, i - 1)
    pos = i + 1
  end
end

-- The namespaces equal to or below `prefix` ('' for all) in creation order (by id), after id
-- `after` (0: from the first).  The iterator gives (path, id) per namespace, or (false, id) when
-- the budget ran out (resume after that id), or nil at the end.  A namespace costs one unit
-- (with a prefix, every namespace looked at does).
local function ns_iter(prefix, after)
  local plen, afternum = #prefix, tonumber(after)
  if plen > 0 then
    local lo, hi = '[' .. prefix, '(' .. prefix .. '\1'
    local count = redis.call('ZLEXCOUNT', K.ns, lo, hi)
    if count <= LEFT then
      -- few enough namespaces below the prefix: read them all, in creation order
      LEFT = LEFT - count
      local names = redis.call('ZRANGEBYLEX', K.ns, lo, hi)
      local order = {}
      local i = 1
      while i <= #names do
        local j = math.min(i + 3999, #names)
        local ids = redis.call('ZMSCORE', K.no, unpack(names, i, j))
        for x = i, j do
          local id = ids[x - i + 1]
          if id and tonumber(id) > afternum then order[#order + 1] = {names[x], tonumber(id), id} end
        end
        i = j + 1
      end
      table.sort(order, function(a, b) return a[2] < b[2] end)
      local n = 0
      return function()
        n = n + 1
        local e = order[n]
        if e then return e[1], e[3] end
        return nil
      end
    end
  end
  -- every namespace in creation order, those below the prefix picked out
  local buf, i, lo, last = {}, 0, '(' .. after, after
  local want = prefix .. '\0'
  return function()
    while true do
      if LEFT <= 0 then return false, last end
      i = i + 2
      if i > #buf then
        buf = redis.call('ZRANGEBYSCORE', K.no, lo, '+inf', 'WITHSCORES', 'LIMIT', 0,
          math.max(1, math.min(256, LEFT)))
        i = 2
        if #buf == 0 then return nil end
        lo = '(' .. buf[#buf]
      end
      LEFT = LEFT - 1
      local path = buf[i - 1]
      last = buf[i]
      if plen == 0 or path == prefix or string.sub(path, 1, plen + 1) == want then
        return path, buf[i]
      end
    end
  end
end

-- Items of a namespace after order score `from` (0: from the first), at most `n`: keys, scores.
local function items_after(id, from, n)
  local r = redis.call('ZRANGEBYSCORE', order_key(id), '(' .. from, '+inf', 'WITHSCORES',
    'LIMIT', 0, n)
  local keys, seqs = {}, {}
  for i = 1, #r, 2 do
    keys[#keys + 1] = r[i]
    seqs[#seqs + 1] = r[i + 1]
  end
  return keys, seqs
end

local function cond_ok(labels, c)
  local pat = c[2]
  local n, m = #labels, #pat
  if n < m then return false end
  if c[1] == 'p' then
    for i = 1, m do
      if pat[i] ~= '*' and pat[i] ~= labels[i] then return false end
    end
  else
    for i = 1, m do
      if pat[i] ~= '*' and pat[i] ~= labels[n - m + i] then return false end
    end
  end
  return true
end

-- {'l', conditions, max_depth | false, limit, offset}: sorted, distinct, truncated namespaces.
-- Resumable: state {lex cursor, namespaces seen, last one, how many answered}; returns the
-- namespaces found and the state to resume with when the budget ran out (else nil).
local function list_namespaces(op, st)
  local conds, depth, limit, offset = op[2], op[3], op[4], op[5]
  local out = {}
  if limit <= 0 then return out end
  local lo, hi = '-', '+'
  for _, c in ipairs(conds) do
    if c[1] == 'p' then
      local lit = {}
      for _, l in ipairs(c[2]) do
        if l == '*' then break end
        lit[#lit + 1] = l
      end
      if #lit > 0 then
        local p = table.concat(lit, '\0')
        lo, hi = '[' .. p, '(' .. p .. '\1'
      end
      break
    end
  end
  local seen, last, got = 0, false, 0
  if st then lo, seen, last, got = st[1], st[2], st[3], st[4] end
  while true do
    if LEFT <= 0 then return out, {lo, seen, last, got} end
    local batch = redis.call('ZRANGEBYLEX', K.ns, lo, hi, 'LIMIT', 0, math.min(256, LEFT))
    if #batch == 0 then return out end
    LEFT = LEFT - #batch
    local jumped = false
    for _, path in ipairs(batch) do
      lo = '(' .. path
      local labels = split_labels(path)
      local ok = true
      for _, c in ipairs(conds) do
        if not cond_ok(labels, c) then ok = false break end
      end
      if ok then
        local keep = #labels
        if depth then
          keep = depth >= 0 and math.min(depth, #labels) or math.max(0, #labels + depth)
        end
        local t = path
        if keep < #labels then t = table.concat(labels, '\0', 1, keep) end
        if t ~= last then
          last = t
          seen = seen + 1
          if seen > offset then
            out[#out + 1] = t
            got = got + 1
            if got >= limit then return out end
          end
        end
        if keep < #labels then
          -- every namespace below t truncates to t again: skip past them
          if t == '' then return out end
          lo = '[' .. t .. '\1'
          jumped = true
          break
        end
      end
    end
    if not jumped and #batch < math.min(256, LEFT + #batch) then return out end
  end
end

-- ------------------------------------------------------------------ search

local function append_item(out, field, rec, score, refresh)
  out[#out + 1] = field
  out[#out + 1] = rec
  out[#out + 1] = score
  if refresh then touch(field, rec) end
end

-- Where a search stands between calls: {namespace id after which to go on, namespace in
-- progress (path) or false, its id, order score of its last item read, ...}.
local function search_start(st)
  if st then return st end
  return {'0', false, '0', '0'}
end

-- No query: items in namespace creation order, then key insertion order (InMemoryStore's).
-- Returns the items found and, when the budget ran out, the state to resume with (its fields
-- 5, 6: items still to skip, items found so far).
local function search_plain(prefix, filter, limit, offset, refresh, st)
  local out = {}
  if limit <= 0 then return out end
  st = search_start(st)
  local skip, found = st[5] or offset, st[6] or 0
  -- one namespace from order score `from`: 'done', 'full' or 'budget' (and the last score read)
  local function walk(nspath, id, from)
    local fast = not filter and CLEAN
    if fast and from == '0' and skip > 0 then
      local c = redis.call('ZCARD', order_key(id))
      LEFT = LEFT - 1
      if skip >= c then
        skip = skip - c
        return 'done'
      end
      local r = redis.call('ZRANGE', order_key(id), skip - 1, skip - 1, 'WITHSCORES')
      skip = 0
      if #r == 0 then return 'done' end
      from = r[2]
    end
    while true do
      if LEFT <= 0 then return 'budget', from end
      local want = math.min(200, LEFT)
      if fast then want = math.min(want, limit - found) end
      local keys, seqs = items_after(id, from, want)
      if #keys == 0 then return 'done' end
      LEFT = LEFT - #keys
      local fields = prefixed(nspath, keys)
      local recs = hmget_all(K.it, fields)
      for j = 1, #fields do
        local rec = recs[j]
        if rec and filter then LEFT = LEFT - math.floor(#rec / REC_BYTES_PER_UNIT) end
        if rec and (fast or (live(fields[j], rec) and passes(rec, filter))) then
          if skip > 0 then
            skip = skip - 1
          else
            append_item(out, fields[j], rec, '', refresh)
            found = found + 1
            if found >= limit then return 'full' end
          end
        end
      end
      from = seqs[#seqs]
      if #keys < want then return 'done' end
    end
  end
  local after = st[1]
  if st[2] then
    local how, from = walk(st[2], st[3], st[4])
    if how == 'full' then return out end
    if how == 'budget' then return out, {after, st[2], st[3], from, skip, found} end
    after = st[3]
  end
  for nspath, id in ns_iter(prefix, after) do
    if not nspath then return out, {id, false, '0', '0', skip, found} end
    local how, from = walk(nspath, id, '0')
    if how == 'full' then return out end
    if how == 'budget' then return out, {id, nspath, id, from, skip, found} end
  end
  return out
end

-- Cosine similarity as InMemoryStore computes it (0 for a zero vector).
local function norm(v)
  local s = 0
  for i = 1, #v do s = s + v[i] * v[i] end
  return math.sqrt(s)
end

local function max_cosine(blob, q, qn)
  local t = cmsgpack.unpack(blob)
  local best = nil
  for j = 3, #t, 3 do
    local y, yn = t[j], t[j - 1]
    local s = 0
    if yn ~= 0 then
      local dot = 0
      for i = 1, #y do dot = dot + y[i] * q[i] end
      s = dot / (yn * qn)
    end
    if best == nil or s > best then best = s end
  end
  return best
end

-- The items of one namespace after order score `from`: scored (max cosine over its vectors)
-- or scoreless; 'done', or 'budget' and the last order score read.
local function scan_namespace(nspath, id, from, filter, q, qn, scored, scoreless, fill, cost)
  local ok = order_key(id)
  local rank = tonumber(id)
  local need_recs = filter ~= nil or not CLEAN
  while true do
    if LEFT <= 0 then return 'budget', from end
    local want = math.max(1, math.min(200, math.floor(LEFT / cost)))
    local keys, seqs = items_after(id, from, want)
    if #keys == 0 then return 'done' end
    LEFT = LEFT - cost * #keys
    local fields = prefixed(nspath, keys)
    local vecs = hmget_all(K.vec, fields)
    local recs = need_recs and hmget_all(K.it, fields) or nil
    for j = 1, #fields do
      local f = fields[j]
      local rec = recs and recs[j]
      if rec and filter then LEFT = LEFT - math.floor(#rec / REC_BYTES_PER_UNIT) end
      if (not recs) or (rec and live(f, rec) and passes(rec, filter)) then
        if vecs[j] then
          scored[#scored + 1] = {max_cosine(vecs[j], q, qn), rank, tonumber(seqs[j]), f}
        elseif #scoreless < fill then
          scoreless[#scoreless + 1] = f
        end
      end
    end
    from = seqs[#seqs]
    if #keys < want then return 'done' end
  end
end

-- A large namespace through its vector set: walk VSIM's answer (approximate: HNSW over 8-bit
-- quantized vectors, best first) until `want` distinct items pass the filter and the score has
-- dropped VSIM_MARGIN below the last of them, then score those exactly from the stored
-- vectors.  Returns false when an exact scan is as cheap or needed.
local VSIM_MARGIN = 0.01
-- HNSW exploration factor of each VSIM: recall@10 over 10k random 384-d vectors is 0.75 at
-- 200, 0.95 at 500, 0.99 at 1000 (1.0 from 200 on for clustered, embedding-like data).
local VSIM_EF = 500
local function vsim_namespace(nspath, id, filter, q, qblob, qn, want, scored)
  local vs = vset_key(id)
  local rank = tonumber(id)
  local card = redis.call('VCARD', vs)
  local k = want + 16
  while true do
    if k * 2 >= card then return false end
    LEFT = LEFT - k
    local res = redis.call('VSIM', vs, 'FP32', qblob, 'WITHSCORES', 'COUNT', k,
      'EF', math.max(k, VSIM_EF))
    if #res < 2 * k then return false end
    local seen, passed, bound, complete = {}, {}, nil, false
    for j = 1, #res, 2 do
      local s = tonumber(res[j + 1])
      if bound and s < bound - VSIM_MARGIN then
        complete = true
        break
      end
      local elem = res[j]
      local cut = #elem
      while string.byte(elem, cut) ~= 0 do cut = cut - 1 end
      local key = string.sub(elem, 1, cut - 1)
      if not seen[key] then
        seen[key] = true
        local f = nspath .. KSEP .. key
        local ok = true
        if filter or not CLEAN then
          local rec = redis.call('HGET', K.it, f)
          ok = rec and live(f, rec) and passes(rec, filter)
        end
        if ok then
          passed[#passed + 1] = {f, key}
          if #passed == want then
            -- VSIM scores are (1 + cosine) / 2: at or below 0.5, zero vectors (cosine 0, not
            -- in the set) could rank among these
            if s <= 0.5 + VSIM_MARGIN then return false end
            bound = s
          end
        end
      end
    end
    if complete then
      local ok = order_key(id)
      for _, p in ipairs(passed) do
        local blob = redis.call('HGET', K.vec, p[1])
        local seq = tonumber(redis.call('ZSCORE', ok, p[2]))
        scored[#scored + 1] = {max_cosine(blob, q, qn), rank, seq, p[1]}
      end
      return true
    end
    k = k * 4
  end
end

local function by_score(a, b)
  local x, y = a[1], b[1]
  if x ~= x then x = -math.huge end
  if y ~= y then y = -math.huge end
  if x ~= y then return x > y end
  if a[2] ~= b[2] then return a[2] < b[2] end
  return a[3] < b[3]
end

-- Keep the `want` best of `scored` (by_score order).
local function best(scored, want)
  table.sort(scored, by_score)
  for i = #scored, want + 1, -1 do scored[i] = nil end
  return scored
end

-- With a query: InMemoryStore's ranking (max cosine per item, ties in the plain search order:
-- namespace id, then order score), paged, then items without vectors when the page is not
-- full.  Resumable: the state carries the best `offset + limit` scored items so far and the
-- first `limit` scoreless ones (fields 5, 6).
local function search_query(prefix, filter, limit, offset, q, refresh, st)
  local out = {}
  if limit <= 0 then return out end
  local want = offset + limit
  local qn = norm(q)
  local cost = 1 + math.floor(#q / DIMS_PER_UNIT)
  local qblob = nil
  if VSETS and ALLOW_VSIM and qn > 0 then qblob = fp32(q) end
  st = search_start(st)
  local scored, scoreless = st[5] or {}, st[6] or {}
  local after = st[1]
  local function pause(id, nspath, nsid, from)
    return out, {id, nspath, nsid, from, best(scored, want), scoreless}
  end
  if st[2] then
    local how, from = scan_namespace(st[2], st[3], st[4], filter, q, qn, scored, scoreless,
      limit, cost)
    if how == 'budget' then return pause(after, st[2], st[3], from) end
    after = st[3]
  end
  for nspath, id in ns_iter(prefix, after) do
    if not nspath then return pause(id, false, '0', '0') end
    local done = false
    if qblob then done = vsim_namespace(nspath, id, filter, q, qblob, qn, want, scored) end
    if not done then
      local how, from = scan_namespace(nspath, id, '0', filter, q, qn, scored, scoreless, limit,
        cost)
      if how == 'budget' then return pause(id, nspath, id, from) end
    end
    if #scored > 4 * want + 256 then best(scored, want) end
  end
  best(scored, want)
  local page = {}
  for i = offset + 1, math.min(want, #scored) do page[#page + 1] = scored[i] end
  local fields = {}
  for i, e in ipairs(page) do fields[i] = e[4] end
  local extra = math.min(limit - #page, #scoreless)
  for i = 1, extra do fields[#fields + 1] = scoreless[i] end
  if #fields == 0 then return out end
  local recs = hmget_all(K.it, fields)
  for i, f in ipairs(fields) do
    local score = ''
    if i <= #page then score = string.format('%.17g', page[i][1]) end
    if recs[i] then append_item(out, f, recs[i], score, refresh) end
  end
  return out
end

-- ------------------------------------------------------------------ writes

-- A namespace emptied by a delete keeps its place until the batch ends (InMemoryStore keeps a
-- namespace's place while the batch runs): path -> id.
local EMPTIED = {}

local function put_item(op)
  local nspath, key, tail, ttl, vecs = op[2], op[3], op[4], op[5], op[6]
  local field = nspath .. KSEP .. key
  local rec = redis.call('HGET', K.it, field)
  if rec and not live(field, rec) then
    remove_item(field, EMPTIED)
    rec = false
  end
  if not tail then
    if rec then remove_item(field, EMPTIED) end
    return
  end
  local id = redis.call('ZSCORE', K.no, nspath)
  if not id then
    id = tostring(redis.call('INCR', K.seq))
    redis.call('ZADD', K.no, id, nspath)
    redis.call('ZADD', K.ns, 0, nspath)
  end
  if not rec then redis.call('ZADD', order_key(id), redis.call('INCR', K.seq), key) end
  local old = redis.call('HGET', K.vec, field)
  if old and VSETS then vset_remove(id, key, old) end
  if vecs then
    redis.call('HSET', K.vec, field, vecs)
    if VSETS then vset_add(id, key, vecs) end
  elseif old then
    redis.call('HDEL', K.vec, field)
  end
  redis.call('HSET', K.it, field, string.format('%d %d ', NOW_US, NOW_US) .. tail)
  if ttl > 0 then
    redis.call('ZADD', K.exp, NOW_MS + ttl, field)
  elseif rec then
    redis.call('ZREM', K.exp, field)
  end
end

-- ------------------------------------------------------------------ batch

local results = {}
for i, op in ipairs(READS) do
  local kind = op[1]
  local st = state_of(op)
  local answer, pause = nil, nil
  if kind == 'g' then
    local rec = redis.call('HGET', K.it, op[2])
    LEFT = LEFT - 1
    if rec and not live(op[2], rec) then rec = false end
    if rec and op[3] then touch(op[2], rec) end
    answer = rec or false
  elseif kind == 's' then
    local prefix, filter, limit, offset, q, refresh = op[2], op[3], op[4], op[5], op[6], op[7]
    if not filter then filter = nil end
    if q then
      answer, pause = search_query(prefix, filter, limit, offset, q, refresh, st)
    else
      answer, pause = search_plain(prefix, filter, limit, offset, refresh, st)
    end
  elseif kind == 'l' then
    answer, pause = list_namespaces(op, st)
  elseif kind == 'x' then
    answer = (st and st[1] or 0) + SWEPT
  end
  if pause then
    results[i] = {cmsgpack.pack(pause), answer}
    return {i, results}
  end
  results[i] = answer
end
for _, op in ipairs(PUTS) do put_item(op) end
for nspath, id in pairs(EMPTIED) do drop_namespace(nspath, id) end
return {0, results}
