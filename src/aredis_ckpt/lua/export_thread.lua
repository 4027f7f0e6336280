-- export_thread (cluster copy_thread, step 1): the contents of a thread's ten keys.
-- KEYS: the thread's ten keys.  Returns false for a thread that does not exist, else
-- {thread id, {hash contents...} for n c m v w, {zset members...} for i j wx r}.
if redis.call('EXISTS', KEYS[K_T]) == 0 then return false end
local out = {redis.call('GET', KEYS[K_T])}
for _, i in ipairs({K_N, K_C, K_M, K_V, K_W}) do out[#out + 1] = redis.call('HGETALL', KEYS[i]) end
for _, i in ipairs({K_I, K_J, K_WX, K_R}) do out[#out + 1] = redis.call('ZRANGE', KEYS[i], 0, -1) end
return out
