import Contracts
import Foundation
import Logging
import Postgres
import ServiceKit

/// An operator's full refund of a paid order (`POST /oms/admin/orders/{SN}/refund`). In one
/// transaction the order moves paid → refunded, once, and announces the three effects: the money
/// back (`payment.refund` to payment, which drives Alipay until it confirms), the points back
/// (`bound.minus`) and the stock back (`stock.return`). A second request finds the order refunded
/// and answers the first result without announcing anything again.
package struct OperatorRefunds: Sendable {
    package let postgres: PostgresPool
    package let relay: OutboxRelay
    package let logger: Logger

    /// Why a refund was refused (HTTP 404 / 409).
    package enum Refusal: Error, Equatable {
        case missing
        case notRefundable(OrderStatus)
    }

    package func refund(orderSn: String) async throws -> OrderRefund {
        let move = OrderLifecycle.move(.refundedByOperator)
        let answer: OrderRefund = try await postgres.withTransaction { connection in
            if let row = try await connection.query("""
                UPDATE oms_order SET status = \(move.to.rawValue), refund_time = now(), modify_time = now()
                WHERE order_sn = \(orderSn) AND status = \(move.from.rawValue)
                RETURNING member_id, integration, growth, pay_amount, refund_time
                """).first {
                let amount = Money(try row.decode("pay_amount", as: Decimal.self))
                try await Outbox.enqueue(RefundRequest(orderSn: orderSn, amount: amount, reason: .operatorRefund), route: Messaging.paymentRefund, on: connection)
                try await Outbox.enqueue(
                    OrderPoints(orderSn: orderSn, userId: try row.decode("member_id"), integration: try row.decode("integration"), growth: try row.decode("growth")),
                    route: Messaging.boundMinus, on: connection)
                try await Outbox.enqueue(OrderRef(orderSn: orderSn), route: Messaging.stockReturn, on: connection)
                logger.info("order.refunded", metadata: ["order.sn": "\(orderSn)", "refund.amount": "\(amount.yuan)"])
                return OrderRefund(orderSn: orderSn, status: move.to, amount: amount, refundedAt: try row.decode("refund_time"))
            }
            let current = try await connection.query("SELECT status, pay_amount, refund_time FROM oms_order WHERE order_sn = \(orderSn)").first
            let status = try current?.orderStatus()
            switch OrderLifecycle.missed(.refundedByOperator, status: status) {
            case .alreadyDone:
                guard let current, let at = try current.decodeIfPresent("refund_time", as: Date.self) else {
                    throw PostgresError.decoding("a refunded order without its refund time")
                }
                return OrderRefund(orderSn: orderSn, status: .refunded, amount: Money(try current.decode("pay_amount", as: Decimal.self)), refundedAt: at)
            case .notAllowed(let status):
                throw Refusal.notRefundable(status)
            case .missing, .nothing, .notYetThere, .paidAfterClose:
                throw Refusal.missing
            }
        }
        relay.wake()
        return answer
    }
}
