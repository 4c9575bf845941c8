import Contracts
import Redis

/// oms's side of the flash-sale latch (`FlashSaleLatch`): opens it once with the order's outcome.
/// The first outcome stays: a redelivered `sec.kill` finds the latch open and changes nothing.
enum PayWaitLatch {
    /// KEYS: the latch. ARGV: outcome, ttl ms. Returns 1 if opened now.
    static let script = RedisScript("""
        local held = redis.call('GET', KEYS[1])
        if held and held ~= '1' then return 0 end
        redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
        return 1
        """)

    static func open(_ redis: RedisPool, sku: Int64, orderSn: String, outcome: FlashSaleLatch.Outcome, ttlMilliseconds: Int = 600_000) async throws {
        _ = try await redis.evaluate(
            script, keys: [FlashSaleLatch.key(sku: sku, orderSn: orderSn)], arguments: [outcome.rawValue, String(ttlMilliseconds)])
    }
}
