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
        // One statement, atomic on its own: the member's totals move only with the order's new row.
        try await postgres.query("""
            WITH noted AS (
                INSERT INTO \(unescaped: table) (order_sn, member_id, integration, growth)
                VALUES (\(m.orderSn), \(m.userId), \(m.integration), \(m.growth))
                ON CONFLICT (order_sn) DO NOTHING
                RETURNING member_id
            )
            INSERT INTO ums_member (id, integration, growth)
            SELECT member_id, \(sign * m.integration)::bigint, \(sign * m.growth)::bigint FROM noted
            ON CONFLICT (id) DO UPDATE SET integration = ums_member.integration + EXCLUDED.integration,
                                           growth = ums_member.growth + EXCLUDED.growth
            """)
        return .ack
    }
}
