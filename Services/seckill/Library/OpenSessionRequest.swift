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
    /// A random code revealed at the start that every buy must carry (default true). Off keeps
    /// the plain API for machine clients and benchmarks.
    package var requireCode: Bool?
    /// The proof-of-work's leading zero bits (default `SECKILL_CHALLENGE_BITS`; 0: none, at most 24).
    package var challengeBits: Int?
}

extension OpenSessionRequest {
    /// The documented limits (`InputLimits`): a price of 0.01…1,000,000.00 yuan in cents.
    func validate() throws(InputError) {
        try Input.id(skuId, "skuId")
        try Input.count(stock, "stock", in: InputLimits.reservationCount)
        try Input.count(limit ?? 1, "limit")
        if let skuName { try Input.text(skuName, "skuName") }
        if let challengeBits { try Input.count(challengeBits + 1, "challengeBits + 1", in: 1...25) }
        guard price.amount >= Decimal(string: "0.01")!, price.amount <= 1_000_000, price.rounded(scale: 2) == price else {
            throw InputError("price must be 0.01...1000000.00 yuan, in cents")
        }
    }
}
