import Contracts
import Foundation

/// A row of `payment_refund`.
package struct RefundRecord: Sendable, Equatable {
    package let id: Int64
    package let outTradeNo: String
    package let outRequestNo: String
    package let amount: Money
    package let reason: String
    package let state: RefundState
    package let attempts: Int
    package let lastError: String?

    package init(id: Int64, outTradeNo: String, outRequestNo: String, amount: Money, reason: String, state: RefundState, attempts: Int, lastError: String? = nil) {
        self.id = id
        self.outTradeNo = outTradeNo
        self.outRequestNo = outRequestNo
        self.amount = amount
        self.reason = reason
        self.state = state
        self.attempts = attempts
        self.lastError = lastError
    }

    /// The refund request number of an order's (one, full) refund: Alipay's idempotency key, so
    /// a request recorded twice, or sent twice, refunds once. Nil when it would pass Alipay's 64.
    package static func requestNumber(orderSn: String) -> String? {
        orderSn.utf8.count <= 62 ? "RF" + orderSn : nil
    }
}
