import Contracts
import Foundation
import Logging
import Postgres
import ServiceKit

/// `PaymentStore` on PostgreSQL: `payment_info`, `payment_notification` and the outbox.
package struct PostgresPaymentStore: PaymentStore {
    package let postgres: PostgresPool

    package init(postgres: PostgresPool) { self.postgres = postgres }

    /// The columns `record(_:)` reads.
    static let columns = "id, out_trade_no, order_id, user_id, subject, total_amount, payment_status, trade_no, create_time"

    package func record(order: OrderEntity, subject: String) async throws -> PaymentRecord {
        let row = try await postgres.query("""
            INSERT INTO payment_info (out_trade_no, order_id, user_id, subject, total_amount)
            VALUES (\(order.orderSn), \(order.id), \(order.userId), \(subject), \(order.payAmount.amount))
            ON CONFLICT (out_trade_no) DO UPDATE SET out_trade_no = EXCLUDED.out_trade_no
            RETURNING \(unescaped: Self.columns)
            """).rows[0]
        return try Self.record(row)
    }

    package func find(outTradeNo: String) async throws -> PaymentRecord? {
        try await postgres.query(Self.find(outTradeNo)).first.map(Self.record)
    }

    package func settle(_ evidence: PaymentEvidence, rules: SettlementRules, logger: Logger) async throws -> SettlementResult {
        // The common case, a first notify for an unpaid payment, in two statements sent in one
        // hop to the connection's thread: the payment read without a lock and, when the decision
        // is to mark it paid, one statement that records the notify, marks the payment and writes
        // its order.pay, changing nothing unless the payment is still unpaid or closed (what the
        // decision saw; the rest of what it read never changes). Measured (deploy/bench/cost): the
        // six statements of the locked transaction, each a round trip and two thread hops, were
        // most of a notify's cost.
        let announced = try Outbox.Row(OrderPaid(orderSn: evidence.outTradeNo), route: Messaging.orderPay)
        let paidAtOnce = try await postgres.withSession { session in
            let seen = try session.query(Self.find(evidence.outTradeNo)).first.map(Self.record)
            guard case .markPaid = rules.decide(evidence, payment: seen) else { return false }
            return try session.query(Self.markPaid(evidence, announcing: announced)).rows[0].decode("n", as: Int.self) == 1
        }
        if paidAtOnce { return .paid }
        // Anything else, or the payment moved since it was read: decided again under its row lock.
        return try await postgres.withTransaction { connection in
            let payment = try await Self.lock(outTradeNo: evidence.outTradeNo, on: connection)
            return try await Self.apply(rules.decide(evidence, payment: payment), evidence: evidence, on: connection, logger: logger)
        }
    }

    static func find(_ outTradeNo: String) -> PostgresQuery {
        "SELECT \(unescaped: columns) FROM payment_info WHERE out_trade_no = \(outTradeNo)"
    }

    /// `.markPaid` as one statement (its own transaction): the notify recorded, the payment
    /// paid and its `order.pay` in the outbox, all or nothing, and only while the payment is
    /// unpaid or closed. Answers `n`: 1 when it was marked, 0 when not (nothing written).
    static func markPaid(_ evidence: PaymentEvidence, announcing announced: Outbox.Row) -> PostgresQuery {
        """
        WITH paid AS (
            UPDATE payment_info SET payment_status = \(PaymentStatus.paid.rawValue), trade_no = \(evidence.tradeNo),
                callback_time = now(), callback_content = \(evidence.content)
            WHERE out_trade_no = \(evidence.outTradeNo)
              AND payment_status IN (\(PaymentStatus.unpaid.rawValue), \(PaymentStatus.closed.rawValue))
            RETURNING out_trade_no
        ), noted AS (
            INSERT INTO payment_notification (out_trade_no, source, notify_id, trade_status, content)
            SELECT out_trade_no, \(evidence.source.rawValue), \(evidence.notifyID), \(evidence.tradeStatus), \(evidence.content) FROM paid
            ON CONFLICT DO NOTHING
        ), relayed AS (
            \(Outbox.insert([announced], when: "paid"))
        )
        SELECT count(*) AS n FROM paid
        """
    }

    package func unpaidPayments(olderThanSeconds minAgeSeconds: Int, limit: Int) async throws -> [String] {
        try await postgres.query("""
            SELECT out_trade_no FROM payment_info
            WHERE payment_status = \(PaymentStatus.unpaid.rawValue) AND create_time < now() - make_interval(secs => \(minAgeSeconds))
              AND create_time > now() - interval '1 day'
            ORDER BY last_queried_at NULLS FIRST, create_time LIMIT \(limit)
            """).rows.map { try $0.decode("out_trade_no", as: String.self) }
    }

    package func settleUnpaid(
        outTradeNo: String, rules: SettlementRules, logger: Logger,
        ask: @Sendable (PaymentRecord) async throws -> PaymentEvidence?
    ) async throws -> SettlementResult? {
        try await postgres.withTransaction { connection in
            guard let row = try await connection.query("""
                SELECT \(unescaped: Self.columns)
                FROM payment_info WHERE out_trade_no = \(outTradeNo) AND payment_status = \(PaymentStatus.unpaid.rawValue)
                FOR UPDATE SKIP LOCKED
                """).first
            else { return nil }  // paid meanwhile, or another instance has it
            let payment = try Self.record(row)
            guard let evidence = try await ask(payment) else { return nil }
            return try await Self.apply(rules.decide(evidence, payment: payment), evidence: evidence, on: connection, logger: logger)
        }
    }

    package func markClosed(outTradeNo: String) async throws {
        try await postgres.query("""
            UPDATE payment_info SET payment_status = \(PaymentStatus.closed.rawValue)
            WHERE out_trade_no = \(outTradeNo) AND payment_status = \(PaymentStatus.unpaid.rawValue)
            """)
    }

    package func markQueried(outTradeNo: String) async throws {
        try await postgres.query("UPDATE payment_info SET last_queried_at = now() WHERE out_trade_no = \(outTradeNo)")
    }

    static func lock(outTradeNo: String, on connection: PostgresConnection) async throws -> PaymentRecord? {
        try await connection.query("""
            SELECT \(unescaped: Self.columns)
            FROM payment_info WHERE out_trade_no = \(outTradeNo) FOR UPDATE
            """).first.map(record)
    }

    /// Applies a decision inside the caller's transaction, which holds the payment's row lock.
    static func apply(_ settlement: Settlement, evidence: PaymentEvidence, on connection: PostgresConnection, logger: Logger) async throws -> SettlementResult {
        if case .refuse(let refusal) = settlement { throw refusal }
        // Every verified notify is recorded once (by notify_id); a repeat is recognised here.
        try await connection.query("""
            INSERT INTO payment_notification (out_trade_no, source, notify_id, trade_status, content)
            VALUES (\(evidence.outTradeNo), \(evidence.source.rawValue), \(evidence.notifyID), \(evidence.tradeStatus), \(evidence.content))
            ON CONFLICT DO NOTHING
            """)
        switch settlement {
        case .refuse(let refusal):
            throw refusal
        case .record(let what):
            return .recorded(what)
        case .recordRefund(let outRequestNo, let refundFee):
            if let outRequestNo,
               try await PostgresRefundStore.confirmByNotify(outTradeNo: evidence.outTradeNo, outRequestNo: outRequestNo, refundFee: refundFee, on: connection) {
                RefundJob.finished[.confirmed]?.increment()
                logger.info("payment.refund.confirmed", metadata: [
                    "payment.out_trade_no": "\(evidence.outTradeNo)", "refund.out_request_no": "\(outRequestNo)", "refund.confirmed_by": "notify",
                ])
            }
            return .recorded("refund")
        case .alreadyPaid(let otherTradeNo):
            if let otherTradeNo {
                logger.error("payment.second_trade", metadata: [
                    "payment.out_trade_no": "\(evidence.outTradeNo)", "payment.trade_no": "\(otherTradeNo)",
                ])
            }
            return .alreadyPaid
        case .markPaid:
            let updated = try await connection.query("""
                UPDATE payment_info SET payment_status = \(PaymentStatus.paid.rawValue), trade_no = \(evidence.tradeNo),
                    callback_time = now(), callback_content = \(evidence.content)
                WHERE out_trade_no = \(evidence.outTradeNo)
                  AND payment_status IN (\(PaymentStatus.unpaid.rawValue), \(PaymentStatus.closed.rawValue))
                """).affectedRows
            guard updated == 1 else { return .alreadyPaid }
            try await Outbox.enqueue(OrderPaid(orderSn: evidence.outTradeNo), route: Messaging.orderPay, on: connection)
            return .paid
        }
    }

    static func record(_ row: PostgresRow) throws -> PaymentRecord {
        guard let status = PaymentStatus(rawValue: try row.decode("payment_status")) else {
            throw PostgresError.decoding("unknown payment_status")
        }
        return PaymentRecord(
            id: try row.decode("id"), outTradeNo: try row.decode("out_trade_no"), orderID: try row.decode("order_id"),
            userID: try row.decode("user_id"), subject: try row.decode("subject"),
            totalAmount: Money(try row.decode("total_amount", as: Decimal.self)),
            status: status, tradeNo: try row.decodeIfPresent("trade_no"), createTime: try row.decode("create_time"))
    }
}
