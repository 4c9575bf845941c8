import AMQP
import Contracts
import Foundation
import Logging
import Postgres
import ServiceLifecycle

/// The transactional outbox: a message is written in the same transaction as the state change
/// it announces, and the relay publishes it later (with confirms), so a commit is never without
/// its message and no message is sent for a rolled-back change.
package enum Outbox {
    /// Sorted keys, nothing else: the form `AMQPMessage.json` sends directly.
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    /// A message as its outbox row holds it.
    package struct Row: Sendable {
        /// The order the message is about (what `insert(_:forOrdersIn:)` matches on).
        package let orderSn: String
        package let messageID: String
        package let routingKey: String
        package let payload: String
        /// The trace the message continues (nil when tracing is off).
        package let traceparent: String?

        /// `payload` for `route`, its id made from its order, in `traceparent`'s trace (the
        /// current one by default; pass it in where no task is current, in a `PostgresSession`).
        package init<T: OrderMessage>(_ payload: T, route: Messaging.Route, traceparent: String? = ShopTracing.traceparent()) throws {
            orderSn = payload.orderSn
            messageID = route.messageID(orderSn: payload.orderSn)
            routingKey = route.routingKey
            self.payload = String(decoding: try Outbox.encoder.encode(payload), as: UTF8.self)
            self.traceparent = traceparent
        }
    }

    /// Adds a message to the outbox on `connection` (inside the caller's transaction).
    /// A second enqueue for the same order and route is ignored (one message id).
    package static func enqueue<T: OrderMessage>(
        _ payload: T, route: Messaging.Route, on connection: PostgresConnection
    ) async throws {
        try await connection.query(insert([try Row(payload, route: route)]))
    }

    /// The one statement that writes outbox rows, each message id once: on its own, or as the
    /// last part of a data-modifying statement, writing only if its CTE `source` gave a row (the
    /// change it announces happened).
    package static func insert(_ rows: [Row], when source: String? = nil) -> PostgresQuery {
        insert(rows, from: source.map { ", \($0)" } ?? "")
    }

    /// The same for a batch: each row written only if the CTE `source` returned its order's
    /// number (an `order_sn` column): the orders whose change happened, each with its messages.
    package static func insert(_ rows: [Row], forOrdersIn source: String) -> PostgresQuery {
        insert(rows, from: " JOIN \(source) AS changed ON changed.order_sn = v.order_sn")
    }

    private static func insert(_ rows: [Row], from join: String) -> PostgresQuery {
        var values: PostgresQuery = ""
        for (index, row) in rows.enumerated() {
            values = "\(values)\(unescaped: index == 0 ? "" : ", ")(\(row.orderSn), \(row.messageID), \(row.routingKey), \(row.payload), \(row.traceparent))"
        }
        return """
            INSERT INTO outbox (message_id, routing_key, payload, traceparent)
            SELECT v.message_id, v.routing_key, v.payload, v.traceparent
            FROM (VALUES \(values)) AS v (order_sn, message_id, routing_key, payload, traceparent)\(unescaped: join)
            ON CONFLICT (message_id) DO NOTHING
            """
    }
}
