import Contracts
import Foundation
import Logging
import Postgres
import Redis
import ServiceKit
import ServiceLifecycle
import Synchronization

/// A flash-sale session as stored in `guli_sms`.
package struct FlashSaleSession: Codable, Sendable, Equatable {
    package var id: Int64
    package var skuId: Int64
    package var skuName: String
    package var price: Money
    package var stock: Int
    package var limit: Int
    package var startTime: Date
    package var endTime: Date
    package var reserved: Bool
    package var released: Bool
    /// Permits left in Redis (listing only).
    package var permitsLeft: Int?

    package var reservationKey: String { "seckill-session:\(id)" }
}
