-- Record the store's schema version (ARGV[1]) unless one is there; return the stored version
-- and whether items' vectors go into Redis 8 vector sets under this prefix.
redis.call('SET', KEYS[1], ARGV[1], 'NX')
return {redis.call('GET', KEYS[1]), vector_sets() and 1 or 0}
