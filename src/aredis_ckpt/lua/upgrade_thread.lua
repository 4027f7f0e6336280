-- upgrade_thread (schema 1 -> 2): bring one thread to the version-2 layout and report what its
-- bucket must hold.  Idempotent: a thread already migrated reports the same entries again.
-- KEYS: the thread's ten keys under its version-1 key part T1, then, on one server when the key
--       part changes (a long id: T2 is its digest), the ten keys under T2.
-- ARGV: T1, T2, the longest key part kept as it is, then (N1, N2) pairs renaming long
--       namespaces to their digests.
-- Returns false for a thread whose keys are gone; {'names', {N1, ...}} when the thread holds
-- long namespaces the pairs do not rename (nothing changed: the client adds their digests and
-- calls again); else {'ok', {cid\0T2\0N2 ...}, {runs}, {cid\0T1\0N1 ... before renaming},
-- PTTL of the thread's t key}.  With T2 ~= T1 on a cluster the keys stay under T1 (the client
-- moves them, as copy_thread does).
local t1, t2, longest = ARGV[1], ARGV[2], tonumber(ARGV[3])
local k = {}
for i = 1, 10 do k[i] = KEYS[i] end
if redis.call('EXISTS', k[K_T]) == 0 then
  -- gone, or already moved to T2 on this server
  if #KEYS < 20 or redis.call('EXISTS', KEYS[10 + K_T]) == 0 then return false end
  for i = 1, 10 do k[i] = KEYS[10 + i] end
end
local renames, pending = {}, {}
for i = 4, #ARGV, 2 do renames[ARGV[i]] = ARGV[i + 1] end
for _, ns_e in ipairs(redis.call('HKEYS', k[K_N])) do
  if #ns_e > longest and not renames[ns_e] then
    pending[#pending + 1] = ns_e
  end
end
if #pending > 0 then return {'names', pending} end

local old_members = {}
for _, m in ipairs(redis.call('ZRANGE', k[K_J], 0, -1)) do
  local cid, ns_e = split_last(m)
  old_members[#old_members + 1] = cid .. NUL .. t1 .. NUL .. ns_e
end

-- a namespace's fields, members and value names move from N1 to N2
local function rename(n1, n2)
  local p1, p2 = n1 .. NUL, n2 .. NUL
  local function moved(name) return p2 .. string.sub(name, #p1 + 1) end
  local ns = redis.call('HGET', k[K_N], n1)
  if ns then
    redis.call('HSET', k[K_N], n2, ns)
    redis.call('HDEL', k[K_N], n1)
  end
  for _, f in ipairs(redis.call('ZRANGEBYLEX', k[K_I], '[' .. p1, '(' .. n1 .. '\1')) do
    local cid, f2 = string.sub(f, #p1 + 1), moved(f)
    local c = redis.call('HGET', k[K_C], f)
    if c then
      redis.call('HSET', k[K_C], f2, c)
      redis.call('HDEL', k[K_C], f)
    end
    local m = redis.call('HGET', k[K_M], f)
    if m then
      local meta = cmsgpack.unpack(m)
      for x, vf in ipairs(meta[3]) do
        if string.sub(vf, 1, #p1) == p1 then meta[3][x] = moved(vf) end
      end
      redis.call('HSET', k[K_M], f2, cmsgpack.pack(meta))
      redis.call('HDEL', k[K_M], f)
      if meta[5] ~= '' then
        redis.call('ZREM', k[K_R], meta[5] .. NUL .. f)
        redis.call('ZADD', k[K_R], 0, meta[5] .. NUL .. f2)
      end
    end
    redis.call('ZREM', k[K_I], f)
    redis.call('ZADD', k[K_I], 0, f2)
    redis.call('ZREM', k[K_J], cid .. NUL .. n1)
    redis.call('ZADD', k[K_J], 0, cid .. NUL .. n2)
  end
  for _, vf in ipairs(redis.call('HKEYS', k[K_V])) do
    if string.sub(vf, 1, #p1) == p1 then
      redis.call('HSET', k[K_V], moved(vf), redis.call('HGET', k[K_V], vf))
      redis.call('HDEL', k[K_V], vf)
    end
  end
  for _, name in ipairs(redis.call('ZRANGEBYLEX', k[K_WX], '[' .. p1, '(' .. n1 .. '\1')) do
    local blob = redis.call('HGET', k[K_W], name)
    if blob then
      redis.call('HSET', k[K_W], moved(name), blob)
      redis.call('HDEL', k[K_W], name)
    end
    redis.call('ZREM', k[K_WX], name)
    redis.call('ZADD', k[K_WX], 0, moved(name))
  end
end
for n1, n2 in pairs(renames) do
  if n1 ~= n2 then rename(n1, n2) end
end

-- one server, new key part: the keys move (merged into keys a version-2 writer already made)
if #KEYS >= 20 and k[K_T] == KEYS[K_T] then
  for i = 1, 10 do
    local old, new = KEYS[i], KEYS[10 + i]
    if redis.call('EXISTS', old) == 1 then
      if redis.call('EXISTS', new) == 0 then
        redis.call('RENAME', old, new)
      elseif i == K_T then
        redis.call('UNLINK', old)
      elseif i == K_N or i == K_C or i == K_M or i == K_V or i == K_W then
        local pairs_ = redis.call('HGETALL', old)
        for x = 1, #pairs_, 2 do redis.call('HSETNX', new, pairs_[x], pairs_[x + 1]) end
        redis.call('UNLINK', old)
      else
        zadd_all(new, redis.call('ZRANGE', old, 0, -1))
        redis.call('UNLINK', old)
      end
    end
  end
  for i = 1, 10 do k[i] = KEYS[10 + i] end
end

local members = {}
for _, m in ipairs(redis.call('ZRANGE', k[K_J], 0, -1)) do
  local cid, ns_e = split_last(m)
  members[#members + 1] = cid .. NUL .. t2 .. NUL .. ns_e
end
local runs, seen = {}, {}
for _, m in ipairs(redis.call('ZRANGE', k[K_R], 0, -1)) do
  local run = split_first(m)
  if not seen[run] then seen[run] = true; runs[#runs + 1] = run end
end
return {'ok', members, runs, old_members, redis.call('PTTL', k[K_T])}
