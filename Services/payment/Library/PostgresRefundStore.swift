import Contracts
import Foundation
import Postgres

/// `RefundStore` on PostgreSQL.
package struct PostgresRefundStore: RefundStore {
    package let postgres: PostgresPool

    package init(postgres: PostgresPool) { self.postgres = postgres }

    package func record(outTradeNo: String, outRequestNo: String, amount: Money, reason: RefundReason) async throws -> RefundRecordOutcome {
        try await postgres.withTransaction { connection in
            let inserted = try await connection.query("""
                INSERT INTO payment_refund (out_trade_no, out_request_no, amount, reason)
                SELECT out_trade_no, \(outRequestNo), \(amount.amount), \(reason.rawValue) FROM payment_info
                WHERE out_trade_no = \(outTradeNo) AND payment_status = \(PaymentStatus.paid.rawValue)
                ON CONFLICT (out_request_no) DO NOTHING
                RETURNING id
                """).first
            if inserted != nil { return .recorded }
            let known = try await connection.query("SELECT 1 FROM payment_refund WHERE out_request_no = \(outRequestNo)").first
            return known != nil ? .repeated : .notPaid
        }
    }

    package func due(limit: Int) async throws -> [Int64] {
        try await postgres.query("""
            SELECT id FROM payment_refund
            WHERE state IN (\(RefundState.requested.rawValue), \(RefundState.sent.rawValue)) AND next_attempt_at <= now()
            ORDER BY next_attempt_at LIMIT \(limit)
            """).rows.map { try $0.decode("id", as: Int64.self) }
    }

    package func advance(id: Int64, _ ask: @Sendable (RefundRecord) async throws -> RefundStep) async throws -> Bool {
        try await postgres.withTransaction { connection in
            guard let row = try await connection.query("""
                SELECT id, out_trade_no, out_request_no, amount, reason, state, attempts, last_error FROM payment_refund
                WHERE id = \(id) AND state IN (\(RefundState.requested.rawValue), \(RefundState.sent.rawValue)) AND next_attempt_at <= now()
                FOR UPDATE SKIP LOCKED
                """).first
            else { return false }
            let step = try await ask(try Self.record(row))
            let retryMilliseconds = step.retryAfter.map { Int($0.components.seconds * 1000 + $0.components.attoseconds / 1_000_000_000_000_000) }
            try await connection.query("""
                UPDATE payment_refund SET state = \(step.state.rawValue), attempts = attempts + 1, last_error = \(step.error),
                    next_attempt_at = now() + make_interval(secs => \(retryMilliseconds ?? 0)::float8 / 1000),
                    refunded_amount = COALESCE(\(step.refundedAmount?.amount), refunded_amount),
                    confirmed_by = CASE WHEN \(step.state == .confirmed) THEN 'query' ELSE confirmed_by END,
                    confirmed_at = CASE WHEN \(step.state == .confirmed) THEN now() ELSE confirmed_at END,
                    updated_at = now()
                WHERE id = \(id)
                """)
            return true
        }
    }

    package func pending() async throws -> (count: Int, oldestAgeSeconds: Double) {
        let row = try await postgres.query("""
            SELECT count(*) AS n, COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)) * 1000, 0)::bigint AS age_ms FROM payment_refund
            WHERE state IN (\(RefundState.requested.rawValue), \(RefundState.sent.rawValue))
            """).rows[0]
        return (try row.decode("n"), Double(try row.decode("age_ms", as: Int64.self)) / 1000)
    }

    /// A verified refund notify for `outRequestNo` (inside the settling transaction): the refund
    /// is confirmed if it was still on its way, or marked refused (Alipay's word beats a refusal
    /// we read from a retried request), and its amount is covered by the cumulative `refund_fee`.
    /// True if it was.
    static func confirmByNotify(outTradeNo: String, outRequestNo: String, refundFee: Money?, on connection: PostgresConnection) async throws -> Bool {
        try await connection.query("""
            UPDATE payment_refund SET state = \(RefundState.confirmed.rawValue), confirmed_by = 'notify', confirmed_at = now(),
                refunded_amount = COALESCE(\(refundFee?.amount), amount), updated_at = now()
            WHERE out_request_no = \(outRequestNo) AND out_trade_no = \(outTradeNo)
              AND state IN (\(RefundState.requested.rawValue), \(RefundState.sent.rawValue), \(RefundState.refused.rawValue))
              AND COALESCE(\(refundFee?.amount)::numeric, amount) >= amount
            """).affectedRows == 1
    }

    static func record(_ row: PostgresRow) throws -> RefundRecord {
        guard let state = RefundState(rawValue: try row.decode("state")) else { throw PostgresError.decoding("unknown refund state") }
        return RefundRecord(
            id: try row.decode("id"), outTradeNo: try row.decode("out_trade_no"), outRequestNo: try row.decode("out_request_no"),
            amount: Money(try row.decode("amount", as: Decimal.self)), reason: try row.decode("reason"), state: state,
            attempts: try row.decode("attempts"), lastError: try row.decodeIfPresent("last_error"))
    }
}
