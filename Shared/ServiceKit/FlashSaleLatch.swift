import Redis

/// The Redis side of a flash sale. All keys of one sku share the hash tag `{SKU}`, so every
/// script stays valid on Redis Cluster. Per session (several sessions of one sku live side by
/// side and never touch each other's keys): `sec:{SKU}:S<ID>:session` (hash: id, start, end,
/// limit, price), `…:stock`, `…:permits`, `…:buyers` (hash user → count), `…:wins` (hash order →
/// "user:count": the wins Redis knows, reconciled with PostgreSQL), `…:returned` (order numbers
/// whose permit was given back). Per sku: `sec:{SKU}:countdown:ORDERSN` (the order's latch) and
/// `sec:{SKU}:tokens:USER` (the buyer's token bucket: "tokens:at-ms").
package enum FlashSaleKeys {
    static func prefix(_ sku: Int64, _ session: Int64) -> String { "sec:{\(sku)}:S\(session):" }
    package static func session(_ sku: Int64, session: Int64) -> String { prefix(sku, session) + "session" }
    package static func stock(_ sku: Int64, session: Int64) -> String { prefix(sku, session) + "stock" }
    package static func permits(_ sku: Int64, session: Int64) -> String { prefix(sku, session) + "permits" }
    package static func buyers(_ sku: Int64, session: Int64) -> String { prefix(sku, session) + "buyers" }
    package static func wins(_ sku: Int64, session: Int64) -> String { prefix(sku, session) + "wins" }
    /// Order numbers whose permit was given back (a give-back happens once).
    package static func returned(_ sku: Int64, session: Int64) -> String { prefix(sku, session) + "returned" }
    /// Every key of one session (to expire them once it is released).
    package static func all(_ sku: Int64, session id: Int64) -> [String] {
        [session(sku, session: id), stock(sku, session: id), permits(sku, session: id), buyers(sku, session: id),
         wins(sku, session: id), returned(sku, session: id)]
    }
    package static func countdown(_ sku: Int64, _ orderSn: String) -> String { "sec:{\(sku)}:countdown:\(orderSn)" }
    package static func bucket(_ sku: Int64, _ user: Int64) -> String { "sec:{\(sku)}:tokens:\(user)" }
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
