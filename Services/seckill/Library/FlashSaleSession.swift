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
    /// The random code a buy must carry (nil: none). The public list shows it only once the
    /// session has started.
    package var code: String?
    /// Leading zero bits the buy's proof-of-work must reach (0: no challenge).
    package var challengeBits: Int = 0
    /// Whether a buy needs the code (listing only: the code itself is hidden until the start).
    package var codeRequired: Bool?

    /// What the public list shows: the code only from the start.
    package func listed(at now: Date) -> FlashSaleSession {
        var shown = self
        shown.codeRequired = code != nil
        if now < startTime { shown.code = nil }
        return shown
    }

    package var reservationKey: String { FlashSaleReservation.key(session: id) }
}
