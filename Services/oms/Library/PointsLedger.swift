import AMQP
import Contracts
import Foundation
import Logging
import Postgres
import ServiceKit

/// The points ledger (`guli_ums`): credits a member once per paid order, and takes the credit
/// back once per refunded order. The two may arrive in either order (two queues); each happens
/// once, so a refunded order nets zero.
package struct PointsLedger: Sendable {
    package let postgres: PostgresPool
    package init(postgres: PostgresPool) { self.postgres = postgres }

    /// `bound.plus`: a paid order's points credited, once.
    package func boundPlus(_ delivery: AMQPDelivery) async throws -> AMQPOutcome {
        try await change(delivery, route: Messaging.boundPlus, table: "ums_points_history", sign: 1)
    }

    /// `bound.minus`: a refunded order's points taken back, once.
    package func boundMinus(_ delivery: AMQPDelivery) async throws -> AMQPOutcome {
        try await change(delivery, route: Messaging.boundMinus, table: "ums_points_reversal", sign: -1)
    }

    /// The order's row in `table` (keyed by order number: a redelivery finds it and does
    /// nothing), then the member's totals moved by `sign` × the order's points.
    private func change(_ delivery: AMQPDelivery, route: Messaging.Route, table: String, sign: Int64) async throws -> AMQPOutcome {
        guard let m = try? delivery.decode(OrderPoints.self), !m.orderSn.isEmpty, m.userId > 0, m.integration >= 0, m.growth >= 0 else {
            return .deadLetter(reason: "malformed \(route.routingKey) payload")
        }
        try await postgres.withTransaction { connection in
            let inserted = try await connection.query("""
                INSERT INTO \(unescaped: table) (order_sn, member_id, integration, growth)
                VALUES (\(m.orderSn), \(m.userId), \(m.integration), \(m.growth))
                ON CONFLICT (order_sn) DO NOTHING
                """).affectedRows
            guard inserted == 1 else { return }
            try await connection.query("""
                INSERT INTO ums_member (id, integration, growth) VALUES (\(m.userId), \(sign * m.integration), \(sign * m.growth))
                ON CONFLICT (id) DO UPDATE SET integration = ums_member.integration + EXCLUDED.integration,
                                               growth = ums_member.growth + EXCLUDED.growth
                """)
        }
        return .ack
    }
}
