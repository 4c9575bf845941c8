import AMQP
import Contracts
import Foundation
import Logging
import Postgres
import ServiceKit

/// `wms_stock_lock.status`.
package enum StockLockStatus: Int, Sendable {
    case locked = 0, used = 1, released = 2
    /// Sold, then the order was refunded: the units are back in stock.
    case returned = 3
}
