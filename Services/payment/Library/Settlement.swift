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
    /// Recorded only: the buyer has not paid yet, the trade closed, or a refund notify (which
    /// carries `TRADE_SUCCESS` too and is never a second payment).
    case record(String)
}
