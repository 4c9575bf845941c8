import Contracts
import Foundation

/// Whether a buyer may still be sent to Alipay for an order, and until when (pure). The trade
/// expires with the order (`time_expire` = the order's deadline): a buyer who opens the cashier
/// a minute before the close cannot pay half an hour after it, when the stock was resold.
package enum PayWindow: Sendable, Equatable {
    /// Pay until `expiresAt`.
    case open(expiresAt: Date)
    /// The order closes within `minimum` (or has closed): not worth starting a payment.
    case closingSoon(deadline: Date)

    package static func decide(order: OrderEntity, now: Date, minimum: TimeInterval, fallbackMinutes: Int) -> PayWindow {
        let deadline = order.payDeadline ?? order.createTime.addingTimeInterval(TimeInterval(fallbackMinutes * 60))
        return deadline.timeIntervalSince(now) < minimum ? .closingSoon(deadline: deadline) : .open(expiresAt: deadline)
    }
}
