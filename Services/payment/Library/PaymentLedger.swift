import Contracts
import Foundation
import Logging
import Postgres
import ServiceKit

/// A row of `payment_info`.
package struct PaymentRecord: Sendable, Equatable {
    package let id: Int64
    package let outTradeNo: String
    package let orderID: Int64
    package let userID: Int64
    package let subject: String
    package let totalAmount: Money
    package let status: PaymentStatus
    package let tradeNo: String?
    package let createTime: Date
}

/// What Alipay told us about a trade, from a verified notify or a verified query response.
package struct PaymentEvidence: Sendable {
    package enum Source: String, Sendable { case notify, query }
    package var source: Source
    package var outTradeNo: String
    package var tradeStatus: String
    package var totalAmount: String
    package var tradeNo: String?
    package var appID: String?
    package var sellerID: String?
    package var notifyID: String?
    /// Present on refund notifies (`TRADE_SUCCESS` with `refund_fee`): never a second payment.
    package var refundFee: String?
    /// The notify's parameters (or the query response) as JSON, kept in `callback_content`.
    package var content: String
}

/// Why evidence was refused; each becomes `failure` to Alipay and a log line.
package struct PaymentRefusal: Error, CustomStringConvertible, Sendable, Equatable {
    package let description: String
    package init(_ d: String) { description = d }
}

/// What settling did.
package enum SettlementResult: Sendable, Equatable {
    /// unpaid → paid now; `order.pay` was written to the outbox.
    case paid
    /// The payment was already paid: nothing changed.
    case alreadyPaid
    /// A status that is only recorded (WAIT_BUYER_PAY, TRADE_CLOSED, a refund).
    case recorded(String)
}

/// `payment_info` and the one code path that settles a payment (notify and active query).
package struct PaymentLedger: Sendable {
    package let postgres: PostgresPool
    package let appID: String
    package let sellerID: String?

    /// The payment row for an order, created on first use. A double click, or two instances
    /// racing, reuse the one row (`out_trade_no` is unique).
    package func record(order: OrderEntity, subject: String) async throws -> PaymentRecord {
        let amount = order.payAmount.amount
        let row = try await postgres.query("""
            INSERT INTO payment_info (out_trade_no, order_id, user_id, subject, total_amount)
            VALUES (\(order.orderSn), \(order.id), \(order.userId), \(subject), \(amount))
            ON CONFLICT (out_trade_no) DO UPDATE SET out_trade_no = EXCLUDED.out_trade_no
            RETURNING id, out_trade_no, order_id, user_id, subject, total_amount, payment_status, trade_no, create_time
            """).rows[0]
        return try Self.record(row)
    }

    package func find(outTradeNo: String) async throws -> PaymentRecord? {
        try await postgres.query("""
            SELECT id, out_trade_no, order_id, user_id, subject, total_amount, payment_status, trade_no, create_time
            FROM payment_info WHERE out_trade_no = \(outTradeNo)
            """).first.map(Self.record)
    }

    /// Checks `evidence` against the recorded payment and applies it, in one transaction.
    package func settle(_ evidence: PaymentEvidence, logger: Logger) async throws -> SettlementResult {
        try await postgres.withTransaction { connection in
            try await settle(evidence, on: connection, logger: logger)
        }
    }

    /// The same, inside the caller's transaction (the active query holds the row lock already).
    package func settle(_ evidence: PaymentEvidence, on connection: PostgresConnection, logger: Logger) async throws -> SettlementResult {
        if evidence.source == .notify {
            guard evidence.appID == appID else { throw PaymentRefusal("app_id \(evidence.appID ?? "-") is not ours") }
        }
        if let sellerID, let theirs = evidence.sellerID, theirs != sellerID {
            throw PaymentRefusal("seller_id \(theirs) is not ours")
        }
        guard let row = try await connection.query("""
            SELECT id, out_trade_no, order_id, user_id, subject, total_amount, payment_status, trade_no, create_time
            FROM payment_info WHERE out_trade_no = \(evidence.outTradeNo) FOR UPDATE
            """).first
        else { throw PaymentRefusal("unknown out_trade_no \(evidence.outTradeNo)") }
        let payment = try Self.record(row)
        guard let amount = Money(evidence.totalAmount), amount == payment.totalAmount else {
            throw PaymentRefusal("total_amount \(evidence.totalAmount) differs from the recorded \(payment.totalAmount.yuan)")
        }
        // Every verified notify is recorded once (by notify_id); a repeat is recognised here.
        try await connection.query("""
            INSERT INTO payment_notification (out_trade_no, source, notify_id, trade_status, content)
            VALUES (\(payment.outTradeNo), \(evidence.source.rawValue), \(evidence.notifyID), \(evidence.tradeStatus), \(evidence.content))
            ON CONFLICT DO NOTHING
            """)
        switch evidence.tradeStatus {
        case "TRADE_SUCCESS", "TRADE_FINISHED":
            if evidence.refundFee != nil { return .recorded("refund") }
            guard payment.status == .unpaid else {
                if let tradeNo = evidence.tradeNo, let recorded = payment.tradeNo, tradeNo != recorded {
                    logger.error("payment.second_trade", metadata: [
                        "payment.out_trade_no": "\(payment.outTradeNo)", "payment.trade_no": "\(tradeNo)", "payment.recorded_trade_no": "\(recorded)",
                    ])
                }
                return .alreadyPaid
            }
            let updated = try await connection.query("""
                UPDATE payment_info SET payment_status = 1, trade_no = \(evidence.tradeNo), callback_time = now(),
                    callback_content = \(evidence.content)
                WHERE id = \(payment.id) AND payment_status = 0
                """).affectedRows
            guard updated == 1 else { return .alreadyPaid }
            try await Outbox.enqueue(
                OrderPaid(orderSn: payment.outTradeNo), route: Messaging.orderPay,
                messageID: "order.pay:\(payment.outTradeNo)", on: connection)
            return .paid
        case "WAIT_BUYER_PAY", "TRADE_CLOSED":
            return .recorded(evidence.tradeStatus)
        default:
            throw PaymentRefusal("unknown trade_status \(evidence.tradeStatus)")
        }
    }

    static func record(_ row: PostgresRow) throws -> PaymentRecord {
        PaymentRecord(
            id: try row.decode("id"), outTradeNo: try row.decode("out_trade_no"), orderID: try row.decode("order_id"),
            userID: try row.decode("user_id"), subject: try row.decode("subject"),
            totalAmount: Money(try row.decode("total_amount", as: Decimal.self)),
            status: PaymentStatus(rawValue: try row.decode("payment_status")) ?? .unpaid,
            tradeNo: try row.decodeIfPresent("trade_no"), createTime: try row.decode("create_time"))
    }
}
