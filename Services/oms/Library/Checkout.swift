import Contracts
import Foundation
import Logging
import Postgres
import ServiceKit

/// The checkout API's work: a normal order from a checkout, idempotent on the order token,
/// its stock locked in wms (every line or none), its close timer started.
///
/// 1. The token's row (`oms_checkout`: token → a new order number) and the close timer commit
///    together, before anything is locked: a retried call finds the row and reuses the number,
///    on which the wms lock is idempotent.
/// 2. The lock. A shortage marks the row refused (a retry answers the same); nothing was locked.
/// 3. The order and its lines, and the row marked placed, in one transaction.
/// If the caller gives up between 2 and 3, the close timer finds the row still locking and
/// releases the lock (`abandon`).
package struct Checkout: Sendable {
    package let postgres: PostgresPool
    package let wms: WareClient
    package let relay: OutboxRelay
    package let closeAfterSeconds: Int
    package let logger: Logger

    /// `oms_checkout.state`.
    package enum State: Int, Sendable {
        case locking = 0, placed = 1, refused = 2, abandoned = 3
    }

    /// What a call comes to.
    package enum Answer: Sendable, Equatable {
        case placed(orderSn: String)
        /// Not enough stock for some line: no order, no lock.
        case shortage
        /// The same token came with another request.
        case tokenReused
        /// The checkout outlived its close timer before its order was written: nothing is held.
        case expired
    }

    /// What to do with a token seen before (pure).
    package enum Resume: Sendable, Equatable {
        /// Lock (again: idempotent) and write the order.
        case lock(orderSn: String)
        case answer(Answer)
    }

    /// The decision for a token whose row exists, from the row and the new request.
    package static func resume(orderSn: String, state: State, storedRequest: String, request: String) -> Resume {
        guard storedRequest == request else { return .answer(.tokenReused) }
        switch state {
        case .locking: return .lock(orderSn: orderSn)
        // Placed: the order exists (paid, or closed since: the same order either way).
        case .placed: return .answer(.placed(orderSn: orderSn))
        case .refused: return .answer(.shortage)
        case .abandoned: return .answer(.expired)
        }
    }

    package func place(_ request: CheckoutOrderRequest) async throws -> Answer {
        try request.validate()
        let text = String(decoding: try ShopJSON.encoder.encode(request), as: UTF8.self)
        let resume: Resume = try await postgres.withTransaction { connection in
            let number = try await Self.nextOrderNumber(on: connection)
            if try await connection.query("""
                INSERT INTO oms_checkout (order_token, order_sn, member_id, request)
                VALUES (\(request.orderToken), \(number), \(request.memberId), \(text))
                ON CONFLICT (order_token) DO NOTHING RETURNING order_sn
                """).first != nil {
                try await Outbox.enqueue(OrderRef(orderSn: number), route: Messaging.orderDelay(seconds: closeAfterSeconds), on: connection)
                return .lock(orderSn: number)
            }
            guard let row = try await connection.query("""
                SELECT order_sn, state, request FROM oms_checkout WHERE order_token = \(request.orderToken)
                """).first, let state = State(rawValue: try row.decode("state"))
            else { throw PostgresError.decoding("checkout row without a known state") }
            return Self.resume(orderSn: try row.decode("order_sn"), state: state, storedRequest: try row.decode("request"), request: text)
        }
        relay.wake()
        let orderSn: String
        switch resume {
        case .answer(let answer): return answer
        case .lock(let number): orderSn = number
        }
        let lines = request.items.map { LockLine(skuId: $0.skuId, count: $0.quantity) }
        switch try await wms.lock(StockLockRequest(orderSn: orderSn, items: lines)) {
        case .locked:
            break
        case .shortage:
            try await postgres.query("""
                UPDATE oms_checkout SET state = \(State.refused.rawValue)
                WHERE order_token = \(request.orderToken) AND state = \(State.locking.rawValue)
                """)
            return .shortage
        case .released:
            return .expired
        }
        return try await writeOrder(request, orderSn: orderSn)
    }

    /// Step 3: the order, its lines and the row placed, once.
    private func writeOrder(_ request: CheckoutOrderRequest, orderSn: String) async throws -> Answer {
        let total = request.totalAmount.amount
        let points = FlashSaleOrders.points(total)
        return try await postgres.withTransaction { connection in
            // The row lock orders this against the close timer's `abandon`.
            guard let row = try await connection.query("""
                UPDATE oms_checkout SET state = \(State.placed.rawValue)
                WHERE order_token = \(request.orderToken) AND state IN (\(State.locking.rawValue), \(State.placed.rawValue))
                RETURNING created_at
                """).first
            else { return .expired }
            let created: Date = try row.decode("created_at")
            guard let id = try await connection.query("""
                INSERT INTO oms_order (order_sn, member_id, status, total_amount, pay_amount, integration, growth, source_type, pay_deadline)
                VALUES (\(orderSn), \(request.memberId), \(OrderStatus.unpaid.rawValue), \(total), \(request.payAmount.amount), \(points), \(points),
                        \(OrderSource.normal.rawValue), \(created.addingTimeInterval(TimeInterval(closeAfterSeconds))))
                ON CONFLICT (order_sn) DO NOTHING
                RETURNING id
                """).first?.decode("id", as: Int64.self)
            else { return .placed(orderSn: orderSn) }  // written by an earlier call
            for line in request.items {
                try await connection.query("""
                    INSERT INTO oms_order_item (order_id, order_sn, sku_id, sku_name, sku_price, sku_quantity)
                    VALUES (\(id), \(orderSn), \(line.skuId), \(line.skuName), \(line.price.amount), \(line.quantity))
                    """)
            }
            logger.info("order.checkout.placed", metadata: ["order.sn": "\(orderSn)", "order.amount": "\(request.payAmount.yuan)"])
            return .placed(orderSn: orderSn)
        }
    }

    /// Checkout order numbers: `N`, the day (UTC), a sequence number. Flash-sale numbers are all
    /// digits, so the two never meet.
    static func nextOrderNumber(on connection: PostgresConnection) async throws -> String {
        let row = try await connection.query("SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYYMMDD') AS day, nextval('oms_order_number') AS n").rows[0]
        let n: Int64 = try row.decode("n")
        let digits = String(n)
        return "N" + (try row.decode("day", as: String.self)) + String(repeating: "0", count: max(0, 10 - digits.count)) + digits
    }

    /// The close timer of a checkout whose order was never written: the row is marked abandoned
    /// and its lock released (`stock.unlock`); true if so. The UPDATE waits for the row lock of a
    /// checkout writing its order at this moment, and then finds it placed.
    static func abandon(orderSn: String, on connection: PostgresConnection) async throws -> Bool {
        guard try await connection.query("""
            UPDATE oms_checkout SET state = \(State.abandoned.rawValue)
            WHERE order_sn = \(orderSn) AND state = \(State.locking.rawValue)
            RETURNING order_sn
            """).first != nil
        else { return false }
        try await Outbox.enqueue(OrderRef(orderSn: orderSn), route: Messaging.stockUnlock, on: connection)
        return true
    }
}
