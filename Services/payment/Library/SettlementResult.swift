/// What settling did.
package enum SettlementResult: Sendable, Equatable {
    /// unpaid → paid now; `order.pay` was written to the outbox.
    case paid
    /// The payment was already paid: nothing changed.
    case alreadyPaid
    /// A status that is only recorded (WAIT_BUYER_PAY, TRADE_CLOSED, a refund).
    case recorded(String)
}
