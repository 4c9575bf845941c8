import Foundation

/// What `alipay.trade.refund` did to a trade, decided inside the trade book so the check and
/// the change happen together (two calls with the same `out_request_no` cannot both refund).
enum RefundOutcome: Sendable {
    /// No trade with that out_trade_no / trade_no: ACQ.TRADE_NOT_EXIST.
    case unknownTrade
    /// Never paid (waiting, or closed unpaid): ACQ.TRADE_STATUS_ERROR.
    case notPaid(SimulatedTrade)
    /// `refund_amount` missing, not yuan with at most two decimals, or not above zero: ACQ.REFUND_FEE_ERROR.
    case invalidAmount(SimulatedTrade)
    /// More than is left to refund: ACQ.REFUND_AMT_NOT_EQUAL_TOTAL; nothing changed.
    case exceeds(SimulatedTrade)
    /// That `out_request_no` was refunded before: the earlier figures, `fund_change` N.
    /// `refundFee` is the cumulative refunded amount as it stood right after that refund.
    case repeated(SimulatedTrade, SimulatedRefund, refundFee: String)
    /// Refunded now: `fund_change` Y and a refund notify to send.
    case refunded(SimulatedTrade, SimulatedRefund, refundFee: String)
}
