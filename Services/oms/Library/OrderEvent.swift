import Contracts

/// What happens to an order.
package enum OrderEvent: Sendable, CaseIterable {
    /// `order.pay`: Alipay's money for the order was settled.
    case paid
    /// `order.close`: the order's payment timeout elapsed.
    case paymentTimedOut
    /// An operator refunds the paid order in full.
    case refundedByOperator
}
