import Contracts
import Foundation
import Logging
import Postgres
import Redis
import ServiceKit
import ServiceLifecycle
import Synchronization

/// `POST /seckill/admin/sessions` body.
package struct OpenSessionRequest: Codable, Sendable {
    package var skuId: Int64
    package var skuName: String?
    package var price: Money
    package var stock: Int
    package var startTime: Date
    package var endTime: Date
    package var limit: Int?
}

extension OpenSessionRequest {
    /// The documented limits (`InputLimits`): a price of 0.01…1,000,000.00 yuan in cents.
    func validate() throws(InputError) {
        try Input.id(skuId, "skuId")
        try Input.count(stock, "stock", in: InputLimits.reservationCount)
        try Input.count(limit ?? 1, "limit")
        if let skuName { try Input.text(skuName, "skuName") }
        guard price.amount >= Decimal(string: "0.01")!, price.amount <= 1_000_000, price.rounded(scale: 2) == price else {
            throw InputError("price must be 0.01...1000000.00 yuan, in cents")
        }
    }
}
