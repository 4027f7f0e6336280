-- copy_write (copy_thread, target side): write one page read by copy_read into a thread's keys.
-- KEYS: the ten keys written: the target's (a merge), or a staging copy of them (see
-- copy_publish).  ARGV: thread id, target T, ttl ms (0: leave expiries alone), phase ('w' or
-- 'c'), number of namespace pairs, the pairs, then the page's records flattened: phase 'w'
-- name, blob pairs; phase 'c' per checkpoint N, cid, c, m, number of value pairs, the pairs.
-- A checkpoint is written with its values in this one script: no reader sees it without them.
-- Returns {fields or members each of the ten keys gained, {bucket members}, {runs}}.
local tag, ttl, phase = ARGV[2], tonumber(ARGV[3]), ARGV[4]
local added = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
if redis.call('SET', KEYS[K_T], ARGV[1], 'KEEPTTL', 'GET') == false then added[K_T] = 1 end
-- one variadic command per key (in slices below Lua's stack limit), counting what it added
local function add(i, cmd, items)
  local n, at = #items, 1
  while at <= n do
    local last = math.min(at + 3999, n)
    added[i] = added[i] + redis.call(cmd, KEYS[i], unpack(items, at, last))
    at = last + 1
  end
end
local pos = 5
local n_spaces = tonumber(ARGV[pos])
local spaces = {}
for x = 1, 2 * n_spaces do spaces[x] = ARGV[pos + x] end
add(K_N, 'HSET', spaces)
pos = pos + 2 * n_spaces + 1
local members, runs, run_seen = {}, {}, {}
if phase == 'w' then
  local w, wx = {}, {}
  while pos < #ARGV do
    w[#w + 1] = ARGV[pos]
    w[#w + 1] = ARGV[pos + 1]
    wx[#wx + 1] = 0
    wx[#wx + 1] = ARGV[pos]
    pos = pos + 2
  end
  add(K_W, 'HSET', w)
  add(K_WX, 'ZADD', wx)
else
  local v, c, m, i, j, r = {}, {}, {}, {}, {}, {}
  -- the GC barrier (as in put): while a value GC of the thread runs, what the copied
  -- checkpoints reference stays (a staging copy has no GC)
  local gd = thread_base(KEYS) .. 'gd'
  local gc_running = redis.call('EXISTS', gd) == 1
  while pos <= #ARGV do
    local ns_e, cid, meta = ARGV[pos], ARGV[pos + 1], ARGV[pos + 3]
    local n_values = tonumber(ARGV[pos + 4])
    local f = ns_e .. NUL .. cid
    c[#c + 1] = f; c[#c + 1] = ARGV[pos + 2]
    m[#m + 1] = f; m[#m + 1] = meta
    pos = pos + 5
    for x = pos, pos + 2 * n_values - 1 do v[#v + 1] = ARGV[x] end
    pos = pos + 2 * n_values
    i[#i + 1] = 0; i[#i + 1] = f
    j[#j + 1] = 0; j[#j + 1] = cid .. NUL .. ns_e
    local record = cmsgpack.unpack(meta)
    if gc_running and #record[3] > 0 then chunked('SREM', gd, record[3]) end
    local run = record[5]
    if run ~= '' then
      r[#r + 1] = 0; r[#r + 1] = run .. NUL .. f
      if not run_seen[run] then run_seen[run] = true; runs[#runs + 1] = run end
    end
    members[#members + 1] = cid .. NUL .. tag .. NUL .. ns_e
  end
  -- values first: one script, so no reader sees a checkpoint without them anyway
  add(K_V, 'HSET', v)
  add(K_C, 'HSET', c)
  add(K_M, 'HSET', m)
  add(K_I, 'ZADD', i)
  add(K_J, 'ZADD', j)
  add(K_R, 'ZADD', r)
end
touch(KEYS, ttl)
return {added, members, runs}
