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

    /// `bound.minus`: a refunded order's points taken back, once.
    package func boundMinus(_ delivery: AMQPDelivery) async throws -> AMQPOutcome {
        try await change(delivery, route: Messaging.boundMinus, table: "ums_points_reversal", sign: -1)
    }

    /// `bound.plus` in batches: every batch order's points in one statement (one commit).
    package func boundsPlus(_ batch: [AMQPDelivery]) async throws -> [AMQPOutcome] {
        try await change(batch, route: Messaging.boundPlus, table: "ums_points_history", sign: 1)
    }

    /// The order's row in `table` (keyed by order number: a redelivery finds it and does
    /// nothing), then the member's totals moved by `sign` × the order's points.
    private func change(_ delivery: AMQPDelivery, route: Messaging.Route, table: String, sign: Int64) async throws -> AMQPOutcome {
        try await change([delivery], route: route, table: table, sign: sign)[0]
    }

    /// The same for several orders in one statement, atomic on its own: each member's totals
    /// move by the sum of the orders that got their new row (summed per member, taken in member
    /// order so two batches crediting the same members wait for each other instead of
    /// deadlocking). A malformed message is dead-lettered alone; if the statement fails, each
    /// message is tried on its own, so one that can never be written (a member's total past
    /// `bigint`) fails alone and its batch-mates are credited.
    private func change(_ batch: [AMQPDelivery], route: Messaging.Route, table: String, sign: Int64) async throws -> [AMQPOutcome] {
        var points: [OrderPoints] = []
        var seen = Set<String>()
        let outcomes: [AMQPOutcome] = batch.map { delivery in
            guard let m = try? delivery.decode(OrderPoints.self), (try? Input.orderNumber(m.orderSn)) != nil, InputLimits.id.contains(m.userId),
                  m.integration >= 0, m.growth >= 0
            else { return .deadLetter(reason: "malformed \(route.routingKey) payload") }
            if seen.insert(m.orderSn).inserted { points.append(m) }
            return .ack
        }
        if points.isEmpty { return outcomes }
        do {
            try await credit(points, table: table, sign: sign)
            return outcomes
        } catch where batch.count > 1 {
            return await batch.settled(Array(repeating: nil, count: batch.count)) { delivery in
                try await change([delivery], route: route, table: table, sign: sign)[0]
            }
        }
    }

    private func credit(_ points: [OrderPoints], table: String, sign: Int64) async throws {
        try await postgres.query("""
            WITH noted AS (
                INSERT INTO \(unescaped: table) (order_sn, member_id, integration, growth)
                SELECT * FROM unnest(\(points.map(\.orderSn))::text[], \(points.map(\.userId))::bigint[],
                                     \(points.map(\.integration))::bigint[], \(points.map(\.growth))::bigint[])
                ON CONFLICT (order_sn) DO NOTHING
                RETURNING member_id, integration, growth
            )
            INSERT INTO ums_member (id, integration, growth)
            SELECT member_id, \(sign)::bigint * sum(integration), \(sign)::bigint * sum(growth) FROM noted GROUP BY member_id ORDER BY member_id
            ON CONFLICT (id) DO UPDATE SET integration = ums_member.integration + EXCLUDED.integration,
                                           growth = ums_member.growth + EXCLUDED.growth
            """)
    }
}
