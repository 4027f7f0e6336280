-- Shared helpers, prepended to every script.  Thread scripts receive the thread's ten keys as
-- KEYS[1..10] in this order (see _keys.py):  t n c m v i j w wx r
local NUL = '\0'
local K_T, K_N, K_C, K_M, K_V, K_I, K_J, K_W, K_WX, K_R = 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
local NAMES = {'t', 'n', 'c', 'm', 'v', 'i', 'j', 'w', 'wx', 'r'}

-- The ten key names of a thread from its base ("P:{T}:").
local function thread_keys(base)
  local k = {}
  for i, name in ipairs(NAMES) do k[i] = base .. name end
  return k
end

-- "a\0b" -> "a", "b" at the first NUL (used when the escaped part comes first).
local function split_first(s)
  local i = string.find(s, NUL, 1, true)
  return string.sub(s, 1, i - 1), string.sub(s, i + 1)
end

-- "a\0b" -> "a", "b" at the last NUL (used when the raw part comes first).
local function split_last(s)
  local i = #s
  while i > 0 and string.byte(s, i) ~= 0 do i = i - 1 end
  return string.sub(s, 1, i - 1), string.sub(s, i + 1)
end

-- Call a variadic command with items[from..], in slices that stay below Lua's stack limit.
local function chunked(cmd, key, items, from, step)
  from = from or 1
  step = step or 1
  local size = 4000 - (4000 % step)
  local n = #items
  local i = from
  while i <= n do
    local j = math.min(i + size - 1, n)
    redis.call(cmd, key, unpack(items, i, j))
    i = j + 1
  end
end

local function zadd_all(key, members)
  local args = {}
  for i, m in ipairs(members) do args[2 * i - 1] = 0; args[2 * i] = m end
  chunked('ZADD', key, args, 1, 2)
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

-- Name prefix of one checkpoint's pending writes in w/wx.
local function writes_prefix(ns_e, cid)
  return ns_e .. NUL .. #cid .. ':' .. cid
end

local function write_names(k, ns_e, cid)
  local p = writes_prefix(ns_e, cid)
  return redis.call('ZRANGEBYLEX', k[K_WX], '[' .. p, '(' .. p .. '\255')
end

-- Pending writes of one checkpoint: their stored blobs, in name order.
local function writes_of(k, ns_e, cid)
  local names = write_names(k, ns_e, cid)
  if #names == 0 then return {} end
  return hmget_all(k[K_W], names)
end

-- Channel values a checkpoint references (decoded meta record), in its own field order.
local function values_of(k, meta)
  local fields = meta[3]
  if #fields == 0 then return {} end
  return hmget_all(k[K_V], fields)
end

-- The channel of a pending-write blob: <2-byte length><channel><payload>.
local function write_channel(blob)
  local n = string.byte(blob, 1) * 256 + string.byte(blob, 2)
  return string.sub(blob, 3, 2 + n)
end

-- A stored value blob is <tag length byte><tag><payload>; "empty" marks a channel without value.
local function is_empty_value(blob)
  return string.byte(blob, 1) == 5 and string.sub(blob, 2, 6) == 'empty'
end

-- The latest checkpoint id of a namespace, or nil.
local function latest_cid(k, ns_e)
  local r = redis.call('ZREVRANGEBYLEX', k[K_I], '(' .. ns_e .. '\1', '[' .. ns_e .. NUL, 'LIMIT', 0, 1)
  if #r == 0 then return nil end
  local _, cid = split_first(r[1])
  return cid
end

-- Index entries a script could not update itself (on a cluster the thread's bucket of the
-- indexes across threads lives in another slot): returned to the client, which applies them.
local DROPPED, EMPTIED_RUNS = {}, {}
-- Runs of the checkpoints dropped so far (see release_runs).
local DROPPED_RUNS = {}

-- A bucket's key base ("P:{B}:") from its index key ("P:{B}:ix").
local function bucket_base(bix)
  return string.sub(bix, 1, #bix - 2)
end

-- Keys of a thread beside its ten, in its slot (derived from its base, like the bucket's keys):
--   gd  SET     value GC candidates: fields referenced by checkpoints dropped since the last GC
--               (while it exists, put.lua removes the fields it references: the GC barrier)
--   gs  STRING  the GC's progress: absent = mark from the start, 'c' .. member of i = mark
--               resumes after it, 's' = marking done, sweeping
--   x   SET     nonces of deleted incarnations of the thread whose bucket entries are still
--               being removed; their index keys were renamed aside to x:<nonce>:j / x:<nonce>:r
local function thread_base(k)
  return string.sub(k[K_T], 1, #k[K_T] - 1)
end

-- Set by the scripts that collect value GC candidates (prune, delete_runs), not by put.
local COLLECT = false
-- Namespaces a checkpoint was dropped from (checked for emptiness afterwards).
local TOUCHED_NS = {}

-- Remove one checkpoint with its pending writes and index entries (values: see gc.lua).
-- bix: the thread's bucket index when the script may update it (one server), else false.
-- Returns its meta record, decoded (nil when it had none).
local function drop_checkpoint(k, tag, ns_e, cid, bix)
  local f = ns_e .. NUL .. cid
  local m = redis.call('HGET', k[K_M], f)
  local meta = nil
  if m then
    meta = cmsgpack.unpack(m)
    local run = meta[5]
    if run ~= '' then
      redis.call('ZREM', k[K_R], run .. NUL .. f)
      DROPPED_RUNS[run] = true
    end
    if COLLECT and #meta[3] > 0 then chunked('SADD', thread_base(k) .. 'gd', meta[3]) end
  end
  TOUCHED_NS[ns_e] = true
  redis.call('HDEL', k[K_C], f)
  redis.call('HDEL', k[K_M], f)
  redis.call('ZREM', k[K_I], f)
  redis.call('ZREM', k[K_J], cid .. NUL .. ns_e)
  local names = write_names(k, ns_e, cid)
  if #names > 0 then
    chunked('HDEL', k[K_W], names)
    chunked('ZREM', k[K_WX], names)
  end
  local member = cid .. NUL .. tag .. NUL .. ns_e
  if bix then
    redis.call('ZREM', bix, member)
    redis.call('SREM', bucket_base(bix) .. 'gm:' .. tag, 'c' .. member)
  else
    DROPPED[#DROPPED + 1] = member
  end
  return meta
end

-- TTL bookkeeping in a thread's bucket (only with a ttl): B:exp maps T to the thread's expiry (ms,
-- server clock) as of its last put; B:gm:<T> lists the thread's entries in the bucket ("c" ..
-- member of ix, "r" .. run), so that once the thread has expired they can be removed too.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Record (or extend) a thread's expiry and the bucket entries it just gained.
local function track(bbase, tag, ttl, entries)
  if ttl <= 0 then return end
  if #entries > 0 then chunked('SADD', bbase .. 'gm:' .. tag, entries) end
  redis.call('ZADD', bbase .. 'exp', now_ms() + ttl, tag)
end

-- Remove up to `max` bucket entries of a thread whose keys are gone; its bookkeeping goes with
-- the last of them.  A thread with more stays due (its expiry score is left in the past), so the
-- next sweep of the bucket carries on: no script removes more than `max` entries of it.
-- Returns the number of entries removed.
local function forget_thread(bbase, tag, max)
  local gm = bbase .. 'gm:' .. tag
  local entries = redis.call('SPOP', gm, max)
  local members = {}
  for _, e in ipairs(entries) do
    if string.sub(e, 1, 1) == 'c' then
      members[#members + 1] = string.sub(e, 2)
    else
      redis.call('SREM', bbase .. 'run:' .. string.sub(e, 2), tag)
    end
  end
  chunked('ZREM', bbase .. 'ix', members)
  if #entries < max or redis.call('EXISTS', gm) == 0 then
    redis.call('ZREM', bbase .. 'exp', tag)
  end
  return #entries
end

-- A thread the bucket names as due, checked: `left` is the PTTL of its `t` key.  Gone (-2): up
-- to `max` of its entries go (see forget_thread); alive (kept alive by reads or pending writes,
-- or written without a ttl since): due again when its keys would expire (or `ttl` from now).
-- Returns the number of entries removed.
local function settle(bbase, tag, left, ttl, now, max)
  if left == -2 then
    return forget_thread(bbase, tag, max)
  end
  if left < 0 then left = ttl end
  redis.call('ZADD', bbase .. 'exp', now + left, tag)
  return 0
end

-- Up to `max` threads of the bucket due by the server clock: {T, score, T, score, ...}.
local function due(bbase, max)
  return redis.call('ZRANGEBYSCORE', bbase .. 'exp', '-inf', now_ms(), 'WITHSCORES', 'LIMIT', 0, max)
end

-- One server: settle up to `max` due threads of the bucket (their keys are reachable here),
-- removing at most `entries` bucket entries of expired threads in all.
local function sweep(bbase, prefix, ttl, max, entries)
  local found = due(bbase, max)
  if #found == 0 then return end
  local now = now_ms()
  for i = 1, #found, 2 do
    if entries <= 0 then return end
    local tag = found[i]
    entries = entries - settle(bbase, tag, redis.call('PTTL', prefix .. ':{' .. tag .. '}:t'),
      ttl, now, entries)
  end
end

-- Forget the TTL bookkeeping of a thread that is deleted outright.
local function untrack(bbase, tag)
  redis.call('UNLINK', bbase .. 'gm:' .. tag)
  redis.call('ZREM', bbase .. 'exp', tag)
end

-- A run no longer has checkpoints in this thread: take the thread out of the run's set.
local function run_emptied(tag, run, bix)
  if bix then
    local bbase = bucket_base(bix)
    redis.call('SREM', bbase .. 'run:' .. run, tag)
    redis.call('SREM', bbase .. 'gm:' .. tag, 'r' .. run)
  else
    EMPTIED_RUNS[#EMPTIED_RUNS + 1] = run
  end
end

-- After dropping checkpoints: take the thread out of the set of every run it no longer has a
-- checkpoint of (except `keep_run`, which the caller is adding to).
local function release_runs(k, tag, bix, keep_run)
  for run in pairs(DROPPED_RUNS) do
    if run ~= keep_run and #redis.call('ZRANGEBYLEX', k[K_R], '[' .. run .. NUL,
        '(' .. run .. '\1', 'LIMIT', 0, 1) == 0 then
      run_emptied(tag, run, bix)
    end
  end
end

-- The bucket index passed after the thread's keys at KEYS[pos] (one server), or false.
local function bucket_index(pos)
  if #KEYS >= pos then return KEYS[pos] end
  return false
end

-- After checkpoints were dropped (COLLECT): the GC restarts its mark (new candidates), its keys
-- expire with the thread.
local function gc_restart(k)
  local base = thread_base(k)
  redis.call('DEL', base .. 'gs')
  local left = redis.call('PTTL', k[K_T])
  if left > 0 and redis.call('EXISTS', base .. 'gd') == 1 then
    redis.call('PEXPIRE', base .. 'gd', left)
  end
end

-- The thread's maintenance left unfinished (pending trash or a value GC) is named in its
-- bucket's todo set (one server; on a cluster the client keeps it), found by resume_maintenance.
local function note_todo(k, tag, bix)
  if not bix then return end
  local base = thread_base(k)
  local todo = bucket_base(bix) .. 'todo'
  if redis.call('EXISTS', base .. 'x') == 1 or redis.call('EXISTS', base .. 'gd') == 1 then
    redis.call('SADD', todo, tag)
  else
    redis.call('SREM', todo, tag)
  end
end

-- Namespaces checkpoints were dropped from that hold nothing any more go; a thread left with no
-- namespace goes entirely (UNLINK frees big collections off the main thread).  Returns true then.
local function forget_empty(k)
  for ns_e in pairs(TOUCHED_NS) do
    local lo, hi = '[' .. ns_e .. NUL, '(' .. ns_e .. '\1'
    if #redis.call('ZRANGEBYLEX', k[K_I], lo, hi, 'LIMIT', 0, 1) == 0
        and #redis.call('ZRANGEBYLEX', k[K_WX], lo, hi, 'LIMIT', 0, 1) == 0 then
      redis.call('HDEL', k[K_N], ns_e)
    end
  end
  if redis.call('EXISTS', k[K_N]) == 0 then
    local base = thread_base(k)
    redis.call('UNLINK', base .. 'gd', base .. 'gs', unpack(k, 1, 10))
    return true
  end
  return false
end

-- Give every key of the thread the same expiry (milliseconds; 0 leaves them alone).
local function touch(k, ttl)
  if ttl > 0 then
    for i = 1, 10 do redis.call('PEXPIRE', k[i], ttl) end
  end
end
