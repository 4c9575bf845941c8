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
    /// Adds a message to the outbox on `connection` (inside the caller's transaction).
    /// A second enqueue for the same order and route is ignored (one message id).
    package static func enqueue<T: OrderMessage>(
        _ payload: T, route: Messaging.Route, on connection: PostgresConnection
    ) async throws {
        let messageID = route.messageID(orderSn: payload.orderSn)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = String(decoding: try encoder.encode(payload), as: UTF8.self)
        try await connection.query("""
            INSERT INTO outbox (message_id, routing_key, payload, traceparent)
            VALUES (\(messageID), \(route.routingKey), \(json), \(ShopTracing.traceparent()))
            ON CONFLICT (message_id) DO NOTHING
            """)
    }
}
