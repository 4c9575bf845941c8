/// `payment_refund.state`.
package enum RefundState: Int, Sendable, CaseIterable {
    /// `alipay.trade.refund` is to be sent (again: the same `out_request_no` is idempotent at Alipay).
    case requested = 0
    /// Alipay accepted the refund; `alipay.trade.fastpay.refund.query` is to confirm it.
    case sent = 1
    /// Alipay confirmed the money went back (by the query, or by a verified refund notify).
    case confirmed = 2
    /// Alipay refused it for good (above the paid amount, trade not refundable): an operator reads
    /// `last_error`.
    case refused = 3
}
