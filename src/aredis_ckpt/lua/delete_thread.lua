-- delete_thread, step 1 (atomic, O(1) whatever the thread's size): the thread vanishes at once.
-- Its two index keys (j: the thread's bucket index entries, r: its runs) are renamed aside to
-- x:<nonce>:j / x:<nonce>:r and the nonce recorded in x; every other key is UNLINKed (freed off
-- the main thread), with any value GC in progress.  drain.lua then removes the old entries from
-- the bucket in slices.
-- KEYS: the thread's ten keys, then on one server (with the index across threads) the thread's
-- bucket index.  ARGV: T, nonce, '1' when the index across threads is kept.
-- Returns {'', {}, {}} (the slice reply shape; nothing for the bucket yet).
local tag, nonce = ARGV[1], ARGV[2]
local bix = bucket_index(11)
local base = thread_base(KEYS)
if ARGV[3] == '1' then
  local aside = false
  for _, i in ipairs({K_J, K_R}) do
    if redis.call('EXISTS', KEYS[i]) == 1 then
      local trash = base .. 'x:' .. nonce .. ':' .. NAMES[i]
      redis.call('RENAME', KEYS[i], trash)
      redis.call('PERSIST', trash)
      aside = true
    end
  end
  if aside then redis.call('SADD', base .. 'x', nonce) end
end
redis.call('UNLINK', base .. 'gd', base .. 'gs', unpack(KEYS, 1, 10))
if bix then
  untrack(bucket_base(bix), tag)
  note_todo(KEYS, tag, bix)
end
return {'', {}, {}}
