import Redis

/// The Redis side of a flash sale. All keys of one sku share the hash tag `{SKU}`, so every
/// script stays valid on Redis Cluster:
/// `sec:{SKU}:session` (hash: id, start, end, limit, price), `sec:{SKU}:stock`, `sec:{SKU}:permits`,
/// `sec:{SKU}:buyers` (hash user → count), `sec:{SKU}:countdown:ORDERSN` (the order's latch),
/// `sec:{SKU}:tokens:USER` (the buyer's token bucket: "tokens:at-ms"), `sec:{SKU}:returned` (order
/// numbers whose permit was given back).
package enum FlashSaleKeys {
    package static func session(_ sku: Int64) -> String { "sec:{\(sku)}:session" }
    package static func stock(_ sku: Int64) -> String { "sec:{\(sku)}:stock" }
    package static func permits(_ sku: Int64) -> String { "sec:{\(sku)}:permits" }
    package static func buyers(_ sku: Int64) -> String { "sec:{\(sku)}:buyers" }
    package static func countdown(_ sku: Int64, _ orderSn: String) -> String { "sec:{\(sku)}:countdown:\(orderSn)" }
    package static func bucket(_ sku: Int64, _ user: Int64) -> String { "sec:{\(sku)}:tokens:\(user)" }
    /// Order numbers whose permit was given back in the loaded session (a give-back happens once).
    package static func returned(_ sku: Int64) -> String { "sec:{\(sku)}:returned" }
}

/// An order's countdown latch (count 1): the seckill service creates it when a buyer wins,
/// oms counts it down once the order exists (or was refused), and the pay-wait page waits on it.
package enum FlashSaleLatch {
    /// Counts an order's latch down; at zero it holds the result ("ok" or "soldout") for the
    /// pay-wait page and wakes waiters (a publish on `sec:latch`). A repeat is harmless.
    /// KEYS: countdown. ARGV: result, ttl ms. Returns what is left (0 once open).
    package static let script = RedisScript("""
        local n = tonumber(redis.call('GET', KEYS[1]) or '1')
        if n == nil then return 0 end
        n = n - 1
        if n > 0 then
            redis.call('SET', KEYS[1], n, 'KEEPTTL')
            return n
        end
        redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
        redis.call('PUBLISH', 'sec:latch', KEYS[1])
        return 0
        """)

    /// Counts the latch of `orderSn` down with `result` ("ok" or "soldout").
    package static func countDown(_ redis: RedisPool, sku: Int64, orderSn: String, result: String, ttlMilliseconds: Int = 600_000) async throws {
        _ = try await redis.evaluate(script, keys: [FlashSaleKeys.countdown(sku, orderSn)], arguments: [result, String(ttlMilliseconds)])
    }
}
