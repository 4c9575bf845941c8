import ServiceKit
import Redis

enum FlashSaleScripts {
    /// Takes a permit atomically. KEYS: session, permits, buyers, countdown, bucket.
    /// ARGV: user, count, now (ms), latch ttl (ms), bucket capacity, bucket refill per second.
    /// Returns {code, session id or retry-after ms}: 1 won, 0 sold out, -1 over the buyer's limit,
    /// -2 not started, -3 ended, -4 no session loaded, -5 rate limited.
    static let take = RedisScript("""
        local s = redis.call('HMGET', KEYS[1], 'id', 'start', 'end', 'limit')
        if not s[1] then return {-4, 0} end
        local now = tonumber(ARGV[3])
        local capacity = tonumber(ARGV[5])
        local rate = tonumber(ARGV[6])
        local b = redis.call('HMGET', KEYS[5], 'tokens', 'at')
        local tokens = tonumber(b[1]) or capacity
        local at = tonumber(b[2]) or now
        tokens = math.min(capacity, tokens + (now - at) * rate / 1000)
        if tokens < 1 then
            return {-5, math.ceil((1 - tokens) * 1000 / rate)}
        end
        redis.call('HSET', KEYS[5], 'tokens', tokens - 1, 'at', now)
        redis.call('PEXPIRE', KEYS[5], math.ceil(capacity * 1000 / rate) + 1000)
        if now < tonumber(s[2]) then return {-2, s[1]} end
        if now >= tonumber(s[3]) then return {-3, s[1]} end
        local count = tonumber(ARGV[2])
        local bought = tonumber(redis.call('HGET', KEYS[3], ARGV[1]) or '0')
        if bought + count > tonumber(s[4]) then return {-1, s[1]} end
        local permits = tonumber(redis.call('GET', KEYS[2]) or '0')
        if permits < count then return {0, s[1]} end
        redis.call('DECRBY', KEYS[2], count)
        redis.call('HINCRBY', KEYS[3], ARGV[1], count)
        redis.call('SET', KEYS[4], '1', 'PX', ARGV[4])
        return {1, s[1]}
        """)

    /// Gives a permit and the buyer's place back (publish failed, or the order closed unpaid).
    /// KEYS: session, permits, buyers, countdown. ARGV: user, count, session id.
    /// Only for the same session; returns 1 if given back.
    static let giveBack = RedisScript("""
        if redis.call('HGET', KEYS[1], 'id') ~= ARGV[3] then return 0 end
        redis.call('INCRBY', KEYS[2], ARGV[2])
        local left = redis.call('HINCRBY', KEYS[3], ARGV[1], -tonumber(ARGV[2]))
        if left <= 0 then redis.call('HDEL', KEYS[3], ARGV[1]) end
        redis.call('DEL', KEYS[4])
        return 1
        """)

    /// Loads a session unless that very session is already loaded (never re-seeds).
    /// KEYS: session, stock, permits, buyers. ARGV: id, start ms, end ms, limit, price, stock,
    /// permits, then user/count pairs. Returns 1 if loaded now, 0 if it was there.
    static let preload = RedisScript("""
        if redis.call('HGET', KEYS[1], 'id') == ARGV[1] then return 0 end
        redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
        redis.call('HSET', KEYS[1], 'id', ARGV[1], 'start', ARGV[2], 'end', ARGV[3], 'limit', ARGV[4], 'price', ARGV[5])
        redis.call('SET', KEYS[2], ARGV[6])
        redis.call('SET', KEYS[3], ARGV[7])
        for i = 8, #ARGV, 2 do redis.call('HSET', KEYS[4], ARGV[i], ARGV[i + 1]) end
        return 1
        """)

}
