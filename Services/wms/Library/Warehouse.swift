import AMQP
import Contracts
import Foundation
import Logging
import Postgres
import ServiceKit

/// Stock, locks and reservations in `guli_wms`. Every change is one transaction; the lock
/// record per order makes each message's effect happen once.
package struct Warehouse: Sendable {
    package let postgres: PostgresPool
    package let logger: Logger

    package init(postgres: PostgresPool, logger: Logger) {
        self.postgres = postgres
        self.logger = logger
    }

    /// Locks every line or none. Locking an order that already has its locks returns them again;
    /// an order whose locks were released (it closed) is refused with `LockReleased`.
    package func lock(_ request: StockLockRequest) async throws -> [LockLine] {
        // Merged per sku, in sku order, so concurrent orders never deadlock; limits checked.
        let merged = try request.validated()
        if let key = request.reservationKey, merged.count == 1, try await carveAtOnce(request.orderSn, merged[0], from: key) {
            return merged
        }
        // Anything else, or nothing carved (a repeat finds its locks; a shortage is told apart):
        return try await postgres.withTransaction { connection in
            // Serialise attempts for one order; a retry after success sees the existing locks.
            try await connection.query("SELECT pg_advisory_xact_lock(hashtext(\(request.orderSn)))")
            let existing = try await connection.query(
                "SELECT sku_id, count, status FROM wms_stock_lock WHERE order_sn = \(request.orderSn) ORDER BY sku_id").rows
            if !existing.isEmpty {
                if try existing.contains(where: { try $0.decode("status", as: Int.self) == StockLockStatus.released.rawValue }) {
                    throw LockReleased(orderSn: request.orderSn)
                }
                return try existing.map { LockLine(skuId: try $0.decode("sku_id"), count: try $0.decode("count")) }
            }
            for line in merged {
                let (sku, count) = (line.skuId, line.count)
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
            return merged
        }
    }

    /// Several flash-sale orders' locks carved from the reservation `key` in one transaction
    /// (oms's batched `sec.kill`): the reservation's row lock taken first, so concurrent batches
    /// and single locks of one reservation take turns and each sees the locks the others wrote;
    /// then the orders' existing locks read, `ReservationCarving` decides, and one statement
    /// carves the units and writes the new locks.
    package func lock(_ request: ReservationLocks, from key: String) async throws -> [ReservationLockAnswer] {
        try Input.key(key)
        try request.validate()
        return try await postgres.withTransaction { connection in
            let row = try await connection.query("""
                SELECT id, ware_id, sku_id, remaining, released FROM wms_reservation WHERE key = \(key) FOR UPDATE
                """).first
            let reservation = try row.map {
                ReservationCarving.Reservation(
                    skuId: try $0.decode("sku_id"), remaining: try $0.decode("remaining"), released: try $0.decode("released"))
            }
            let existing = try await connection.query("""
                SELECT order_sn, bool_or(status = \(StockLockStatus.released.rawValue)) AS released FROM wms_stock_lock
                WHERE order_sn = ANY(\(request.orders.map(\.orderSn))::text[]) GROUP BY order_sn
                """).rows.reduce(into: [String: Bool]()) { found, row in found[try row.decode("order_sn")] = try row.decode("released") }
            let carving = ReservationCarving(request.orders, from: reservation, existing: existing)
            if let row, !carving.carved.isEmpty {
                let id: Int64 = try row.decode("id")
                try await connection.query("""
                    WITH carved AS (
                        UPDATE wms_reservation SET remaining = remaining - \(carving.units) WHERE id = \(id)
                    )
                    INSERT INTO wms_stock_lock (order_sn, sku_id, ware_id, count, reservation_id)
                    SELECT sn, \(try row.decode("sku_id", as: Int64.self))::bigint, \(try row.decode("ware_id", as: Int64.self))::bigint, n, \(id)::bigint
                    FROM unnest(\(carving.carved.map(\.orderSn))::text[], \(carving.carved.map(\.count))::int[]) AS t (sn, n)
                    """)
            }
            return carving.answers
        }
    }

    /// A flash-sale order's one line carved from its reservation in one statement, atomic on its
    /// own, instead of a transaction of five (measured with deploy/bench/cost): only when the
    /// order has no lock yet and the reservation covers it. Two attempts for one order at once
    /// cannot both carve: the second's lock collides on the primary key and its whole statement
    /// (its carve too) is undone. False when nothing was carved.
    private func carveAtOnce(_ orderSn: String, _ line: LockLine, from key: String) async throws -> Bool {
        do {
            let carved: Int = try await postgres.query("""
                WITH carved AS (
                    UPDATE wms_reservation SET remaining = remaining - \(line.count)
                    WHERE key = \(key) AND sku_id = \(line.skuId) AND NOT released AND remaining >= \(line.count)
                      AND NOT EXISTS (SELECT 1 FROM wms_stock_lock WHERE order_sn = \(orderSn))
                    RETURNING id, ware_id
                ), locked AS (
                    INSERT INTO wms_stock_lock (order_sn, sku_id, ware_id, count, reservation_id)
                    SELECT \(orderSn), \(line.skuId)::bigint, ware_id, \(line.count)::int, id FROM carved
                    RETURNING order_sn
                )
                SELECT count(*) AS n FROM locked
                """).rows[0].decode("n")
            return carved == 1
        } catch let error as PostgresError where error.sqlState == "23505" {
            return false  // another attempt for this order locked it first
        }
    }

    /// `stock.minus`: the order's locks become sales, once.
    package func stockMinus(_ delivery: AMQPDelivery) async throws -> AMQPOutcome {
        guard let m = try? delivery.decode(StockMinus.self), !m.orderSn.isEmpty else {
            return .deadLetter(reason: "malformed stock.minus payload")
        }
        // Sold: out of stock and out of the locked units, into sales. One statement, its own
        // transaction (no BEGIN/COMMIT round trips); what it did not move is only looked at.
        let used = try await postgres.withConnection { connection in
            try await Self.move([m.orderSn], from: .locked, to: .used, stock: -1, locked: -1, sales: 1, on: connection)
        }
        if !used.isEmpty { return .ack }
        let statuses = try await postgres.query("SELECT DISTINCT status FROM wms_stock_lock WHERE order_sn = \(m.orderSn)").rows.map { try $0.decode("status", as: Int.self) }
        if statuses.isEmpty { return .retry(reason: "no stock lock for order \(m.orderSn)") }
        if statuses.contains(StockLockStatus.released.rawValue) {
            // A paid order whose stock went back: never a sale from nothing. An operator looks.
            logger.error("stock.minus.released_lock", metadata: ["order.sn": "\(m.orderSn)"])
            return .deadLetter(reason: "stock.minus for order \(m.orderSn), whose lock was released")
        }
        return .ack  // already used: a repeat
    }

    /// `stock.minus` in batches: every batch order's locks become sales in one statement (one
    /// commit); an order it did not move (no lock yet, released, a repeat) goes to the single
    /// handler, which tells those apart. A batch that fails (a deadlock with another writer of
    /// the same skus, say) goes to the single handler whole.
    package func stocksMinus(_ batch: [AMQPDelivery]) async throws -> [AMQPOutcome] {
        if batch.count == 1 { return [try await stockMinus(batch[0])] }
        let orderSns = batch.map { (try? $0.decode(StockMinus.self))?.orderSn ?? "" }
        var used: Set<String> = []
        do {
            used = try await postgres.withTransaction { connection in
                // The batch's sku rows locked first, in sku order, as every other writer of them
                // takes them: the move's own UPDATE takes them in whatever order its join makes,
                // and a checkout locking two skus the other way round would deadlock with it.
                try await connection.query("""
                    SELECT 1 FROM wms_ware_sku WHERE (sku_id, ware_id) IN (
                        SELECT sku_id, ware_id FROM wms_stock_lock
                        WHERE order_sn = ANY(\(orderSns)::text[]) AND status = \(StockLockStatus.locked.rawValue))
                    ORDER BY sku_id, ware_id FOR UPDATE
                    """)
                return try await Self.move(orderSns.filter { !$0.isEmpty }, from: .locked, to: .used, stock: -1, locked: -1, sales: 1, on: connection)
            }
        } catch {
            logger.warning("stock.minus.batch_failed", error: error, metadata: ["messaging.batch.message_count": "\(batch.count)"])
        }
        // The first copy of an order it moved is done; a second copy beside it goes the single way
        // (and is a repeat there).
        var answered = Set<String>()
        let decided: [AMQPOutcome?] = orderSns.map { used.contains($0) && answered.insert($0).inserted ? .ack : nil }
        return await batch.settled(decided, oneByOne: stockMinus)
    }

    /// `stock.return`: a refunded order's sold units go back to stock, once. A lock not sold yet
    /// (its `stock.minus`, on another queue, still on the way) is retried until it is.
    package func stockReturn(_ delivery: AMQPDelivery) async throws -> AMQPOutcome {
        guard let m = try? delivery.decode(OrderRef.self), !m.orderSn.isEmpty else {
            return .deadLetter(reason: "malformed stock.return payload")
        }
        return try await postgres.withTransaction { connection in
            // Back on the shelf: into stock, out of sales.
            let returned = try await Self.move([m.orderSn], from: .used, to: .returned, stock: 1, locked: 0, sales: -1, on: connection)
            if !returned.isEmpty {
                logger.info("stock.returned", metadata: ["order.sn": "\(m.orderSn)"])
                return .ack
            }
            let statuses = try await connection.query("SELECT DISTINCT status FROM wms_stock_lock WHERE order_sn = \(m.orderSn)").rows.map { try $0.decode("status", as: Int.self) }
            if statuses.contains(StockLockStatus.returned.rawValue) { return .ack }  // a repeat
            return .retry(reason: "the stock of order \(m.orderSn) is not sold yet")
        }
    }

    /// Moves the orders' locks in status `from` to `to` and each line's units on its sku row by
    /// the given signs (stock, stock_locked, sales), in one statement (atomic on its own);
    /// returns the orders that moved. The units are summed per sku row first: an UPDATE … FROM
    /// applies one joined row to a target row, so two orders of one sku must arrive as one sum.
    private static func move(
        _ orderSns: [String], from: StockLockStatus, to: StockLockStatus, stock: Int, locked: Int, sales: Int, on connection: PostgresConnection
    ) async throws -> Set<String> {
        try Set(await connection.query("""
            WITH moved AS (
                UPDATE wms_stock_lock SET status = \(to.rawValue), updated_at = now()
                WHERE order_sn = ANY(\(orderSns)::text[]) AND status = \(from.rawValue)
                RETURNING order_sn, sku_id, ware_id, count
            ), counted AS (
                UPDATE wms_ware_sku w SET stock = w.stock + \(stock)::int * m.n, stock_locked = w.stock_locked + \(locked)::int * m.n,
                    sales = w.sales + \(sales)::int * m.n
                FROM (SELECT sku_id, ware_id, sum(count)::int AS n FROM moved GROUP BY sku_id, ware_id) m
                WHERE w.sku_id = m.sku_id AND w.ware_id = m.ware_id
            )
            SELECT DISTINCT order_sn FROM moved
            """).rows.map { try $0.decode("order_sn", as: String.self) })
    }

    /// `stock.unlock`: a closed order's locks are released, once. A flash-sale lock goes back to
    /// its reservation while the session still runs, else to free stock.
    package func stockUnlock(_ delivery: AMQPDelivery) async throws -> AMQPOutcome {
        guard let m = try? delivery.decode(OrderRef.self), !m.orderSn.isEmpty else {
            return .deadLetter(reason: "malformed stock.unlock payload")
        }
        try await postgres.withTransaction { connection in
            let released = try await connection.query("""
                UPDATE wms_stock_lock SET status = \(StockLockStatus.released.rawValue), updated_at = now()
                WHERE order_sn = \(m.orderSn) AND status = \(StockLockStatus.locked.rawValue)
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
        try request.validate()
        return try await postgres.withTransaction { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(hashtext(\(request.key)))")
            if let state = try await reservation(request.key, on: connection) { return state }
            let ware = try await Self.lockFreeStock(sku: request.skuId, count: request.count, on: connection)
            try await connection.query("""
                INSERT INTO wms_reservation (key, sku_id, ware_id, reserved, remaining)
                VALUES (\(request.key), \(request.skuId), \(ware), \(request.count), \(request.count))
                """)
            guard let state = try await reservation(request.key, on: connection) else {
                throw PostgresError.decoding("reservation \(request.key) vanished inside its transaction")
            }
            return state
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

    /// Ends a reservation: its unsold rest goes back to free stock (idempotent), but only once
    /// each of the caller's `wins` unreleased wins holds a lock carved from it; until then
    /// `ReservationUnsettled`, and nothing changes.
    package func releaseReservation(_ key: String, wins: Int) async throws -> ReservationState? {
        try await postgres.withTransaction { connection in
            guard let row = try await connection.query("""
                SELECT id, ware_id, sku_id, remaining, released FROM wms_reservation WHERE key = \(key) FOR UPDATE
                """).first
            else { return nil }
            if try !row.decode("released", as: Bool.self) {
                let locks: Int = try await connection.query("""
                    SELECT count(*) AS n FROM wms_stock_lock
                    WHERE reservation_id = \(try row.decode("id", as: Int64.self))
                      AND status IN (\(StockLockStatus.locked.rawValue), \(StockLockStatus.used.rawValue), \(StockLockStatus.returned.rawValue))
                    """).first?.decode("n") ?? 0
                guard locks >= wins else { throw ReservationUnsettled(key: key, wins: wins, locks: locks) }
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
