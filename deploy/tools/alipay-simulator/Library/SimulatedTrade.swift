import Alipay
import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceKit
import ServiceLifecycle
import Signing

/// A trade as the simulator knows it.
public struct SimulatedTrade: Sendable, Codable {
    public var outTradeNo: String
    public var totalAmount: String
    public var subject: String
    public var notifyURL: String
    public var returnURL: String
    public var passbackParams: String?
    public var tradeNo: String
    public var status: String
    public var createdAt: Date
    public var paidAt: Date?
    /// The page pay's `time_expire`: an unpaid trade is `TRADE_CLOSED` from then on.
    public var expiresAt: Date?
    /// The payment notify's delivery (refund notifies count on their refund).
    public var notifyAttempts: Int
    public var notifyDelivered: Bool
    /// Refunds in the order they were made; `out_request_no` makes each one once only.
    public var refunds: [SimulatedRefund]
    /// Yuan refunded so far, two decimals (Alipay's cumulative `refund_fee`).
    public var refundedAmount: String
}
