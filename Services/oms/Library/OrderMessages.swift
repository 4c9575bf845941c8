import AMQP
import Contracts
import Foundation
import Logging
import Postgres
import ServiceKit

/// oms's consumers: `order.pay` (0 → 1, then stock.minus and bound.plus), `order.close`
/// (0 → 4, then stock.unlock and, for a flash-sale order, sec.release). Each effect and the
/// messages it announces commit together; a redelivery finds the status moved on and does nothing.
package struct OrderMessageHandlers: Sendable {
    package let postgres: PostgresPool
    package let relay: OutboxRelay
    package let logger: Logger

    package init(postgres: PostgresPool, relay: OutboxRelay, logger: Logger) {
        self.postgres = postgres
        self.relay = relay
        self.logger = logger
    }

    /// `order.pay`.
    package func orderPaid(_ delivery: AMQPDelivery) async throws -> AMQPOutcome {
        guard let message = try? delivery.decode(OrderPaid.self), !message.orderSn.isEmpty else {
            return .deadLetter(reason: "malformed order.pay payload")
        }
        let outcome: AMQPOutcome = try await postgres.withTransaction { connection in
            let moved = try await connection.query("""
                UPDATE oms_order SET status = 1, payment_time = now(), modify_time = now()
                WHERE order_sn = \(message.orderSn) AND status = 0
                RETURNING member_id, integration, growth
                """).rows
            if let row = moved.first {
                try await Outbox.enqueue(
                    StockMinus(orderSn: message.orderSn), route: Messaging.stockMinus, messageID: "stock.minus:\(message.orderSn)", on: connection)
                try await Outbox.enqueue(
                    BoundPlus(orderSn: message.orderSn, userId: try row.decode("member_id"), integration: try row.decode("integration"), growth: try row.decode("growth")),
                    route: Messaging.boundPlus, messageID: "bound.plus:\(message.orderSn)", on: connection)
                return .ack
            }
            guard let current = try await connection.query("SELECT status FROM oms_order WHERE order_sn = \(message.orderSn)").first else {
                return .retry(reason: "order \(message.orderSn) does not exist")
            }
            if try current.decode("status", as: Int.self) == OrderStatus.closed.rawValue {
                try await connection.query("""
                    INSERT INTO oms_refund_due (order_sn, reason) VALUES (\(message.orderSn), 'paid after the order was closed')
                    ON CONFLICT (order_sn) DO NOTHING
                    """)
                logger.error("order.pay.closed_order", metadata: ["order.sn": "\(message.orderSn)"])
            }
            return .ack  // already paid (a repeat) or closed: nothing more to do
        }
        relay.wake()
        return outcome
    }

    /// `order.close`: the payment timeout elapsed.
    package func orderClose(_ delivery: AMQPDelivery) async throws -> AMQPOutcome {
        guard let message = try? delivery.decode(OrderRef.self), !message.orderSn.isEmpty else {
            return .deadLetter(reason: "malformed order.close payload")
        }
        try await postgres.withTransaction { connection in
            guard let row = try await connection.query("""
                UPDATE oms_order SET status = 4, close_time = now(), modify_time = now()
                WHERE order_sn = \(message.orderSn) AND status = 0
                RETURNING member_id, source_type, session_id
                """).first
            else { return }
            try await Outbox.enqueue(
                OrderRef(orderSn: message.orderSn), route: Messaging.stockUnlock, messageID: "stock.unlock:\(message.orderSn)", on: connection)
            if try row.decode("source_type", as: Int.self) == 1 {
                if let item = try await connection.query("SELECT sku_id, sku_quantity FROM oms_order_item WHERE order_sn = \(message.orderSn) LIMIT 1").first {
                    try await Outbox.enqueue(
                        SeckillRelease(
                            orderSn: message.orderSn, skuId: try item.decode("sku_id"), userId: try row.decode("member_id"),
                            count: try item.decode("sku_quantity"), sessionId: try row.decodeIfPresent("session_id")),
                        route: Messaging.secRelease, messageID: "sec.release:\(message.orderSn)", on: connection)
                } else {
                    // A flash-sale order always has its line; without one there is no permit to name.
                    logger.error("order.close.no_items", metadata: ["order.sn": "\(message.orderSn)"])
                }
            }
            logger.info("order.closed", metadata: ["order.sn": "\(message.orderSn)"])
        }
        relay.wake()
        return .ack
    }
}

/// The points ledger (`guli_ums`): credits a member once per order.
package struct PointsLedger: Sendable {
    package let postgres: PostgresPool
    package init(postgres: PostgresPool) { self.postgres = postgres }

    /// `bound.plus`.
    package func boundPlus(_ delivery: AMQPDelivery) async throws -> AMQPOutcome {
        guard let m = try? delivery.decode(BoundPlus.self), !m.orderSn.isEmpty, m.userId > 0, m.integration >= 0, m.growth >= 0 else {
            return .deadLetter(reason: "malformed bound.plus payload")
        }
        try await postgres.withTransaction { connection in
            let inserted = try await connection.query("""
                INSERT INTO ums_points_history (order_sn, member_id, integration, growth)
                VALUES (\(m.orderSn), \(m.userId), \(m.integration), \(m.growth))
                ON CONFLICT (order_sn) DO NOTHING
                """).affectedRows
            guard inserted == 1 else { return }
            try await connection.query("""
                INSERT INTO ums_member (id, integration, growth) VALUES (\(m.userId), \(m.integration), \(m.growth))
                ON CONFLICT (id) DO UPDATE SET integration = ums_member.integration + EXCLUDED.integration,
                                               growth = ums_member.growth + EXCLUDED.growth
                """)
        }
        return .ack
    }
}
