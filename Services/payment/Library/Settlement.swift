import Contracts

/// What verified evidence about a trade does to its recorded payment. Decided here, from the
/// evidence and the row alone; `PaymentStore.settle` applies it under the row lock.
package enum Settlement: Sendable, Equatable {
    /// Not for us, or not believable: `failure` to Alipay, nothing recorded.
    case refuse(PaymentRefusal)
    /// Unpaid and Alipay says paid: mark it paid and announce `order.pay`, once.
    case markPaid
    /// Paid already: nothing changes. `otherTradeNo` is set when the evidence names another
    /// Alipay trade than the one recorded (a second payment for one order: an operator's case).
    case alreadyPaid(otherTradeNo: String?)
    /// Recorded only: the buyer has not paid yet, or the trade closed unpaid.
    case record(String)
    /// A refund notify (`refund_fee` set; `TRADE_SUCCESS` after a partial refund, `TRADE_CLOSED`
    /// after a full one): never a payment. It confirms the refund `outRequestNo` (`out_biz_no`).
    case recordRefund(outRequestNo: String?, refundFee: Money?)
}
