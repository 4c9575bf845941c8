import Foundation

/// One refund of a trade as the simulator recorded it; its `out_request_no` is the merchant's
/// idempotency key (the same one again refunds nothing).
public struct SimulatedRefund: Sendable, Codable {
    public var outRequestNo: String
    /// Yuan, two decimals.
    public var amount: String
    public var at: Date
    /// The `refund_reason` sent, if any (kept so tests can see what payment asked).
    public var reason: String?
    /// This refund's own notify, counted apart from the payment notify's.
    public var notifyAttempts: Int
    public var notifyDelivered: Bool
}
