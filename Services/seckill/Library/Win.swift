import Logging
import Postgres
import ServiceLifecycle
import Synchronization

/// A permit taken in Redis, as written to `sms_seckill_win`.
package struct Win: Sendable {
    package let orderSn: String
    package let sessionID: Int64
    package let sku: Int64
    package let buyer: Int64
    package let count: Int

    package init(orderSn: String, sessionID: Int64, sku: Int64, buyer: Int64, count: Int) {
        self.orderSn = orderSn
        self.sessionID = sessionID
        self.sku = sku
        self.buyer = buyer
        self.count = count
    }
}
