import AMQP
import Contracts
import Foundation
import Logging
import Postgres
import ServiceKit

/// `wms_stock_lock.status`.
package enum StockLockStatus: Int, Sendable {
    case locked = 0, used = 1, released = 2
}
