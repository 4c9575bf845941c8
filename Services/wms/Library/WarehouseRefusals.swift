import AMQP
import Contracts
import Foundation
import Logging
import Postgres
import ServiceKit

/// Why stock could not be locked.
package struct StockShortage: Error, CustomStringConvertible, Sendable {
    package let skuId: Int64
    package var description: String { "not enough stock for sku \(skuId)" }
}

/// A reservation still has wins without their lock: it cannot be released yet.
package struct ReservationUnsettled: Error, CustomStringConvertible, Sendable {
    package let key: String
    package let wins: Int
    package let locks: Int
    package var description: String { "reservation \(key): \(wins - locks) of \(wins) wins have no order yet" }
}

/// The order's lock was released (the order closed): it is never locked again.
package struct LockReleased: Error, CustomStringConvertible, Sendable {
    package let orderSn: String
    package var description: String { "the stock lock of order \(orderSn) was released" }
}
