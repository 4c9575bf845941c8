import ServiceKit
import Redis

package enum FlashSaleScripts {
    /// Takes a permit of one session atomically. KEYS: session, permits, buyers, countdown, bucket,
    /// wins, the challenge nonce's used-marker. ARGV: user, count, now (ms), latch ttl (ms), bucket
    /// capacity, bucket refill per second, order number (recorded in `wins` on a win), the marker's
    /// ttl in ms ("0": the session has no challenge; else until the nonce expires, and a minute).
    /// Returns {code, session id or retry-after ms} (and the price on a win), the codes of
    /// `TakeReply.Code`: 1 won, 0 sold out, -1 over the buyer's limit, -2 not started, -3 ended,
    /// -4 no session loaded, -5 rate limited, -6 challenge nonce already used.
    ///
    /// The buyer's token bucket is one string "tokens:at-ms" written with its expiry in one SET.
    /// "Sold out" during the sale is answered read-only, without metering: once the permits are
    /// gone that answer is the same for everybody, it is the bulk of a crowd's requests, and
    /// metering it would add a write (and an AOF record) per request exactly when Redis is
    /// hottest. Every other answer, "already bought" included, spends a token.
    static let take = RedisScript("""
        local s = redis.call('HMGET', KEYS[1], 'id', 'start', 'end', 'limit', 'price')
        if not s[1] then return {-4, 0} end
        local now = tonumber(ARGV[3])
        local count = tonumber(ARGV[2])
        local open = now >= tonumber(s[2]) and now < tonumber(s[3])
        local over = tonumber(redis.call('HGET', KEYS[3], ARGV[1]) or '0') + count > tonumber(s[4])
        local permits = tonumber(redis.call('GET', KEYS[2]) or '0')
        if open and not over and permits < count then return {0, s[1]} end
        local capacity = tonumber(ARGV[5])
        local rate = tonumber(ARGV[6])
        local tokens, at = capacity, now
        local b = redis.call('GET', KEYS[5])
        if b then
            local colon = string.find(b, ':', 1, true)
            tokens = tonumber(string.sub(b, 1, colon - 1))
            at = tonumber(string.sub(b, colon + 1))
        end
        tokens = math.min(capacity, tokens + math.max(0, now - at) * rate / 1000)
        if tokens < 1 then
            return {-5, math.ceil((1 - tokens) * 1000 / rate)}
        end
        redis.call('SET', KEYS[5], (tokens - 1) .. ':' .. now, 'PX', math.ceil(capacity * 1000 / rate) + 1000)
        -- A challenge nonce answers one buy; marked only past the read-only sold-out answer and the
        -- bucket, so neither a crowd after the sell-out nor a rate-limited bot writes markers.
        if ARGV[8] ~= '0' and not redis.call('SET', KEYS[7], '1', 'NX', 'PX', ARGV[8]) then return {-6, s[1]} end
        if now < tonumber(s[2]) then return {-2, s[1]} end
        if now >= tonumber(s[3]) then return {-3, s[1]} end
        if over then return {-1, s[1]} end
        redis.call('DECRBY', KEYS[2], count)
        redis.call('HINCRBY', KEYS[3], ARGV[1], count)
        redis.call('SET', KEYS[4], '1', 'PX', ARGV[4])
        redis.call('HSET', KEYS[6], ARGV[7], ARGV[1] .. ':' .. ARGV[2])
        return {1, s[1], s[5]}
        """)

    /// Gives a permit and the buyer's place back (publish failed, or the order closed unpaid).
    /// KEYS: session, permits, buyers, countdown, returned, wins. ARGV: user, count, session id, order sn.
    /// Only for the same session and once per order (a retried release after a failed commit
    /// finds its order in `returned`); returns 1 if given back now.
    package static let giveBack = RedisScript("""
        if redis.call('HGET', KEYS[1], 'id') ~= ARGV[3] then return 0 end
        if redis.call('SADD', KEYS[5], ARGV[4]) == 0 then return 0 end
        redis.call('INCRBY', KEYS[2], ARGV[2])
        local left = redis.call('HINCRBY', KEYS[3], ARGV[1], -tonumber(ARGV[2]))
        if left <= 0 then redis.call('HDEL', KEYS[3], ARGV[1]) end
        redis.call('DEL', KEYS[4])
        redis.call('HDEL', KEYS[6], ARGV[4])
        return 1
        """)

    /// Loads a session unless it is already loaded (never re-seeds); other sessions of the sku are
    /// other keys and stay as they are. KEYS: session, stock, permits, buyers, returned, wins.
    /// ARGV: id, start ms, end ms, limit, price, stock, permits, then order/user/count triples of the
    /// wins not released. Returns 1 if loaded now, 0 if it was there.
    static let preload = RedisScript("""
        if redis.call('HGET', KEYS[1], 'id') == ARGV[1] then return 0 end
        redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6])
        redis.call('HSET', KEYS[1], 'id', ARGV[1], 'start', ARGV[2], 'end', ARGV[3], 'limit', ARGV[4], 'price', ARGV[5])
        redis.call('SET', KEYS[2], ARGV[6])
        redis.call('SET', KEYS[3], ARGV[7])
        for i = 8, #ARGV, 3 do
            redis.call('HSET', KEYS[6], ARGV[i], ARGV[i + 1] .. ':' .. ARGV[i + 2])
            redis.call('HINCRBY', KEYS[4], ARGV[i + 1], ARGV[i + 2])
        end
        return 1
        """)

    /// Applies the durable wins Redis forgot (a lost last second of AOF): each win of PostgreSQL that
    /// is neither in `wins` nor given back (`returned`) takes its permit and the buyer's place now.
    /// Never gives anything back: a win Redis has and PostgreSQL not yet is one being written.
    /// KEYS: session, permits, buyers, wins, returned. ARGV: session id, then order/user/count
    /// triples. Returns the units repaired (0 when the session is not loaded).
    static let reconcile = RedisScript("""
        if redis.call('HGET', KEYS[1], 'id') ~= ARGV[1] then return 0 end
        local repaired = 0
        for i = 2, #ARGV, 3 do
            if redis.call('HEXISTS', KEYS[4], ARGV[i]) == 0 and redis.call('SISMEMBER', KEYS[5], ARGV[i]) == 0 then
                redis.call('HSET', KEYS[4], ARGV[i], ARGV[i + 1] .. ':' .. ARGV[i + 2])
                redis.call('DECRBY', KEYS[2], ARGV[i + 2])
                redis.call('HINCRBY', KEYS[3], ARGV[i + 1], ARGV[i + 2])
                repaired = repaired + tonumber(ARGV[i + 2])
            end
        end
        return repaired
        """)
}
