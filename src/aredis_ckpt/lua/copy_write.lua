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
local pos = 5
local n_spaces = tonumber(ARGV[pos])
for x = 1, n_spaces do
  added[K_N] = added[K_N] + redis.call('HSET', KEYS[K_N], ARGV[pos + 2 * x - 1], ARGV[pos + 2 * x])
end
pos = pos + 2 * n_spaces + 1
local members, runs, run_seen = {}, {}, {}
if phase == 'w' then
  while pos < #ARGV do
    local name = ARGV[pos]
    added[K_W] = added[K_W] + redis.call('HSET', KEYS[K_W], name, ARGV[pos + 1])
    added[K_WX] = added[K_WX] + redis.call('ZADD', KEYS[K_WX], 0, name)
    pos = pos + 2
  end
else
  while pos <= #ARGV do
    local ns_e, cid, c, m = ARGV[pos], ARGV[pos + 1], ARGV[pos + 2], ARGV[pos + 3]
    local n_values = tonumber(ARGV[pos + 4])
    pos = pos + 5
    for x = 0, n_values - 1 do
      added[K_V] = added[K_V] + redis.call('HSET', KEYS[K_V], ARGV[pos + 2 * x], ARGV[pos + 2 * x + 1])
    end
    pos = pos + 2 * n_values
    local f = ns_e .. NUL .. cid
    added[K_C] = added[K_C] + redis.call('HSET', KEYS[K_C], f, c)
    added[K_M] = added[K_M] + redis.call('HSET', KEYS[K_M], f, m)
    added[K_I] = added[K_I] + redis.call('ZADD', KEYS[K_I], 0, f)
    added[K_J] = added[K_J] + redis.call('ZADD', KEYS[K_J], 0, cid .. NUL .. ns_e)
    local run = cmsgpack.unpack(m)[5]
    if run ~= '' then
      added[K_R] = added[K_R] + redis.call('ZADD', KEYS[K_R], 0, run .. NUL .. f)
      if not run_seen[run] then run_seen[run] = true; runs[#runs + 1] = run end
    end
    members[#members + 1] = cid .. NUL .. tag .. NUL .. ns_e
  end
end
touch(KEYS, ttl)
return {added, members, runs}
