import AMQP
import Contracts
import Foundation
import Logging
import Postgres
import ServiceKit

/// One sku and count to lock.
package struct LockLine: Codable, Sendable, Equatable {
    package var skuId: Int64
    package var count: Int
    package init(skuId: Int64, count: Int) { self.skuId = skuId; self.count = count }
}

/// `POST /wms/lock` body: lock stock for an order, all lines or none.
package struct StockLockRequest: Codable, Sendable {
    package var orderSn: String
    package var items: [LockLine]
    /// Carve the lock out of this reservation (a flash-sale session) instead of free stock.
    package var reservationKey: String?
    package init(orderSn: String, items: [LockLine], reservationKey: String? = nil) {
        self.orderSn = orderSn
        self.items = items
        self.reservationKey = reservationKey
    }
}

/// `POST /wms/reservations` body.
package struct ReservationRequest: Codable, Sendable {
    package var key: String
    package var skuId: Int64
    package var count: Int
    package init(key: String, skuId: Int64, count: Int) { self.key = key; self.skuId = skuId; self.count = count }
}

/// A reservation's state.
package struct ReservationState: Codable, Sendable, Equatable {
    package var key: String
    package var skuId: Int64
    package var reserved: Int
    package var remaining: Int
    package var released: Bool
}

/// Why stock could not be locked.
package struct StockShortage: Error, CustomStringConvertible, Sendable {
    package let skuId: Int64
    package var description: String { "not enough stock for sku \(skuId)" }
}

/// Stock, locks and reservations in `guli_wms`. Every change is one transaction; the lock
/// record per order makes each message's effect happen once.
package struct Warehouse: Sendable {
    package let postgres: PostgresPool
    package let logger: Logger

    package init(postgres: PostgresPool, logger: Logger) {
        self.postgres = postgres
        self.logger = logger
    }

    /// Locks every line or none. Locking an order that already has its locks returns them again.
    package func lock(_ request: StockLockRequest) async throws -> [LockLine] {
        guard !request.orderSn.isEmpty, !request.items.isEmpty, request.items.allSatisfy({ $0.count > 0 }) else {
            throw ValidationError("orderSn and items with positive counts are required")
        }
        return try await postgres.withTransaction { connection in
            // Serialise attempts for one order; a retry after success sees the existing locks.
            try await connection.query("SELECT pg_advisory_xact_lock(hashtext(\(request.orderSn)))")
            let existing = try await connection.query("SELECT sku_id, count FROM wms_stock_lock WHERE order_sn = \(request.orderSn) ORDER BY sku_id").rows
            if !existing.isEmpty {
                return try existing.map { LockLine(skuId: try $0.decode("sku_id"), count: try $0.decode("count")) }
            }
            // Merge lines per sku and lock in sku order, so concurrent orders never deadlock.
            let merged = Dictionary(request.items.map { ($0.skuId, $0.count) }, uniquingKeysWith: +).sorted { $0.key < $1.key }
            for (sku, count) in merged {
                if let key = request.reservationKey {
                    guard let row = try await connection.query("""
                        UPDATE wms_reservation SET remaining = remaining - \(count)
                        WHERE key = \(key) AND sku_id = \(sku) AND NOT released AND remaining >= \(count)
                        RETURNING id, ware_id
                        """).first
                    else { throw StockShortage(skuId: sku) }
                    try await connection.query("""
                        INSERT INTO wms_stock_lock (order_sn, sku_id, ware_id, count, reservation_id)
                        VALUES (\(request.orderSn), \(sku), \(try row.decode("ware_id", as: Int64.self)), \(count), \(try row.decode("id", as: Int64.self)))
                        """)
                } else {
                    let ware = try await Self.lockFreeStock(sku: sku, count: count, on: connection)
                    try await connection.query("""
                        INSERT INTO wms_stock_lock (order_sn, sku_id, ware_id, count)
                        VALUES (\(request.orderSn), \(sku), \(ware), \(count))
                        """)
                }
            }
            return merged.map { LockLine(skuId: $0.key, count: $0.value) }
        }
    }

    /// `stock.minus`: the order's locks become sales, once.
    package func stockMinus(_ delivery: AMQPDelivery) async throws -> AMQPOutcome {
        guard let m = try? delivery.decode(StockMinus.self), !m.orderSn.isEmpty else {
            return .deadLetter(reason: "malformed stock.minus payload")
        }
        return try await postgres.withTransaction { connection in
            let used = try await connection.query("""
                UPDATE wms_stock_lock SET status = 1, updated_at = now() WHERE order_sn = \(m.orderSn) AND status = 0
                RETURNING sku_id, ware_id, count
                """).rows
            for line in used {
                try await connection.query("""
                    UPDATE wms_ware_sku SET stock = stock - \(try line.decode("count", as: Int.self)),
                        stock_locked = stock_locked - \(try line.decode("count", as: Int.self)),
                        sales = sales + \(try line.decode("count", as: Int.self))
                    WHERE sku_id = \(try line.decode("sku_id", as: Int64.self)) AND ware_id = \(try line.decode("ware_id", as: Int64.self))
                    """)
            }
            if !used.isEmpty { return .ack }
            let statuses = try await connection.query("SELECT DISTINCT status FROM wms_stock_lock WHERE order_sn = \(m.orderSn)").rows.map { try $0.decode("status", as: Int.self) }
            if statuses.isEmpty { return .retry(reason: "no stock lock for order \(m.orderSn)") }
            if statuses.contains(2) { logger.error("stock.minus.released_lock", metadata: ["order.sn": "\(m.orderSn)"]) }
            return .ack  // already used (a repeat), or released (paid after close: refund, logged)
        }
    }

    /// `stock.unlock`: a closed order's locks are released, once. A flash-sale lock goes back to
    /// its reservation while the session still runs, else to free stock.
    package func stockUnlock(_ delivery: AMQPDelivery) async throws -> AMQPOutcome {
        guard let m = try? delivery.decode(OrderRef.self), !m.orderSn.isEmpty else {
            return .deadLetter(reason: "malformed stock.unlock payload")
        }
        try await postgres.withTransaction { connection in
            let released = try await connection.query("""
                UPDATE wms_stock_lock SET status = 2, updated_at = now() WHERE order_sn = \(m.orderSn) AND status = 0
                RETURNING sku_id, ware_id, count, reservation_id
                """).rows
            for line in released {
                let count: Int = try line.decode("count")
                if let reservation = try line.decodeIfPresent("reservation_id", as: Int64.self) {
                    let back = try await connection.query("""
                        UPDATE wms_reservation SET remaining = remaining + \(count) WHERE id = \(reservation) AND NOT released
                        """).affectedRows
                    if back == 1 { continue }
                }
                try await connection.query("""
                    UPDATE wms_ware_sku SET stock_locked = stock_locked - \(count)
                    WHERE sku_id = \(try line.decode("sku_id", as: Int64.self)) AND ware_id = \(try line.decode("ware_id", as: Int64.self))
                    """)
            }
        }
        return .ack
    }

    /// Sets `count` of a sku's free stock aside under `key` (idempotent on the key).
    package func reserve(_ request: ReservationRequest) async throws -> ReservationState {
        guard !request.key.isEmpty, request.count > 0 else { throw ValidationError("key and a positive count are required") }
        return try await postgres.withTransaction { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(hashtext(\(request.key)))")
            if let state = try await reservation(request.key, on: connection) { return state }
            let ware = try await Self.lockFreeStock(sku: request.skuId, count: request.count, on: connection)
            try await connection.query("""
                INSERT INTO wms_reservation (key, sku_id, ware_id, reserved, remaining)
                VALUES (\(request.key), \(request.skuId), \(ware), \(request.count), \(request.count))
                """)
            return try await reservation(request.key, on: connection)!
        }
    }

    /// Moves `count` of a sku's free stock into `stock_locked` in the first warehouse that has it
    /// (row-locked, re-checked by the UPDATE itself); returns that warehouse or throws a shortage.
    static func lockFreeStock(sku: Int64, count: Int, on connection: PostgresConnection) async throws -> Int64 {
        guard let row = try await connection.query("""
            UPDATE wms_ware_sku SET stock_locked = stock_locked + \(count)
            WHERE id = (SELECT id FROM wms_ware_sku WHERE sku_id = \(sku) AND stock - stock_locked >= \(count)
                        ORDER BY ware_id LIMIT 1 FOR UPDATE)
              AND stock - stock_locked >= \(count)
            RETURNING ware_id
            """).first
        else { throw StockShortage(skuId: sku) }
        return try row.decode("ware_id")
    }

    /// Ends a reservation: its unsold rest goes back to free stock (idempotent).
    package func releaseReservation(_ key: String) async throws -> ReservationState? {
        try await postgres.withTransaction { connection in
            guard let row = try await connection.query("""
                SELECT id, ware_id, sku_id, remaining, released FROM wms_reservation WHERE key = \(key) FOR UPDATE
                """).first
            else { return nil }
            if try !row.decode("released", as: Bool.self) {
                try await connection.query("""
                    UPDATE wms_ware_sku SET stock_locked = stock_locked - \(try row.decode("remaining", as: Int.self))
                    WHERE sku_id = \(try row.decode("sku_id", as: Int64.self)) AND ware_id = \(try row.decode("ware_id", as: Int64.self))
                    """)
                try await connection.query("UPDATE wms_reservation SET remaining = 0, released = true WHERE id = \(try row.decode("id", as: Int64.self))")
            }
            return try await reservation(key, on: connection)
        }
    }

    package func reservation(_ key: String, on connection: PostgresConnection) async throws -> ReservationState? {
        try await connection.query("SELECT key, sku_id, reserved, remaining, released FROM wms_reservation WHERE key = \(key)").first.map {
            ReservationState(
                key: try $0.decode("key"), skuId: try $0.decode("sku_id"), reserved: try $0.decode("reserved"),
                remaining: try $0.decode("remaining"), released: try $0.decode("released"))
        }
    }
}

/// A request body failed validation (HTTP 400).
package struct ValidationError: Error, CustomStringConvertible, Sendable {
    package let description: String
    package init(_ d: String) { description = d }
}
