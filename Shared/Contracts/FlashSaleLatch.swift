/// An order's pay-wait latch in Redis, the one flash-sale name oms shares with seckill. seckill's
/// take script sets it to `1` with the win; oms sets it to an `Outcome` once the order exists (or
/// cannot be made); seckill's `/miaosha/pay` polls it for a bounded time. The key carries the
/// sku's hash tag, like every other key of the sale.
package enum FlashSaleLatch {
    package static func key(sku: Int64, orderSn: String) -> String { "sec:{\(sku)}:countdown:\(orderSn)" }

    /// What oms leaves in an open latch.
    package enum Outcome: String, Sendable, CaseIterable {
        /// The order exists: the page moves to `pay.html`.
        case ok
        /// The warehouse had no unit behind the permit.
        case soldOut = "soldout"
        /// oms gave the win up (every retry failed); the permit went back.
        case failed
    }
}
