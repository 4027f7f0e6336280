-- shared_touch (cluster with a ttl): record a thread's expiry and new shared-index entries in the
-- shared slot, and sweep threads that have expired.  KEYS: P:{%G}:exp.
-- ARGV: shared key base, T, ttl ms, grace ms, then entries ("c" .. ix member, "r" .. run).
local entries = {}
for i = 5, #ARGV do entries[#entries + 1] = ARGV[i] end
track(ARGV[1], ARGV[2], tonumber(ARGV[3]), entries)
return sweep(ARGV[1], 2, tonumber(ARGV[4]))
