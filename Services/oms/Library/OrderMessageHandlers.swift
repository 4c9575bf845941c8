import AMQP
import Contracts
import Foundation
import Logging
import Postgres
import ServiceKit

/// oms's consumers: `order.pay` (unpaid → paid, then stock.minus and bound.plus; paid after the
/// order closed: payment.refund), `order.close` (unpaid → closed, then stock.unlock, trade.close
/// and, for a flash-sale order, sec.release). Each effect and the messages it announces commit
/// together; a redelivery finds the status moved on and does nothing.
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
        let move = OrderLifecycle.move(.paid)
        if try await payAtOnce([(message.orderSn, ShopTracing.traceparent())]).contains(message.orderSn) {
            relay.wake()
            return .ack
        }
        // Not unpaid when read, or moved since: the order's case decided under the transaction.
        let outcome: AMQPOutcome = try await postgres.withTransaction { connection in
            let moved = try await connection.query("""
                UPDATE oms_order SET status = \(move.to.rawValue), payment_time = now(), modify_time = now()
                WHERE order_sn = \(message.orderSn) AND status = \(move.from.rawValue)
                RETURNING member_id, integration, growth
                """).rows
            if let row = moved.first {
                try await Outbox.enqueue(
                    StockMinus(orderSn: message.orderSn), route: Messaging.stockMinus, on: connection)
                try await Outbox.enqueue(
                    OrderPoints(orderSn: message.orderSn, userId: try row.decode("member_id"), integration: try row.decode("integration"), growth: try row.decode("growth")),
                    route: Messaging.boundPlus, on: connection)
                return .ack
            }
            let current = try await connection.query("SELECT status, pay_amount FROM oms_order WHERE order_sn = \(message.orderSn)").first
            let status = try current?.orderStatus()
            switch OrderLifecycle.missed(.paid, status: status) {
            case .notYetThere:
                return .retry(reason: "order \(message.orderSn) does not exist")
            case .paidAfterClose:
                // The stock was released and may be sold again: the money goes back, by itself.
                let amount = Money(try current?.decode("pay_amount", as: Decimal.self) ?? 0)
                try await Outbox.enqueue(
                    RefundRequest(orderSn: message.orderSn, amount: amount, reason: .closedOrder), route: Messaging.paymentRefund, on: connection)
                logger.warning("order.pay.closed_order", metadata: ["order.sn": "\(message.orderSn)", "refund.amount": "\(amount.yuan)"])
            case .nothing, .alreadyDone, .notAllowed, .missing:
                break
            }
            return .ack
        }
        relay.wake()
        return outcome
    }

    /// `order.pay` in batches: the unpaid orders of the batch paid together (`payAtOnce`, one
    /// commit for all), each of the rest (not there yet, paid after its close, a repeat, a second
    /// copy beside itself) by the single handler, which decides its case under a transaction.
    package func ordersPaid(_ batch: [AMQPDelivery]) async throws -> [AMQPOutcome] {
        if batch.count == 1 { return [try await orderPaid(batch[0])] }
        var outcomes = [AMQPOutcome?](repeating: nil, count: batch.count)
        var payable: [(index: Int, orderSn: String, trace: String?)] = []
        var seen = Set<String>()
        for (index, delivery) in batch.enumerated() {
            guard let message = try? delivery.decode(OrderPaid.self), !message.orderSn.isEmpty else {
                outcomes[index] = .deadLetter(reason: "malformed order.pay payload")
                continue
            }
            if seen.insert(message.orderSn).inserted {
                payable.append((index, message.orderSn, ShopTracing.traceparent(for: delivery)))
            }
        }
        do {
            let paid = try await payAtOnce(payable.map { ($0.orderSn, $0.trace) })
            for order in payable where paid.contains(order.orderSn) { outcomes[order.index] = .ack }
            if !paid.isEmpty { relay.wake() }
        } catch {
            logger.warning("order.pay.batch_failed", error: error, metadata: ["messaging.batch.message_count": "\(batch.count)"])
        }
        return await batch.settled(outcomes, oneByOne: orderPaid)
    }

    /// The common case of `order.pay`, unpaid orders, in two statements sent in one hop instead
    /// of a transaction of five per order (measured with deploy/bench/cost: each statement is a
    /// round trip and two thread hops): the orders read, then one statement that moves the
    /// unpaid ones to paid and writes each one's stock.minus and bound.plus, all or nothing, and
    /// only while it is still unpaid. The points come from the read; an order's member and
    /// points never change. Returns the orders paid now; `trace` is each one's message's trace.
    private func payAtOnce(_ orders: [(orderSn: String, trace: String?)]) async throws -> Set<String> {
        let move = OrderLifecycle.move(.paid)
        let traces = Dictionary(orders, uniquingKeysWith: { first, _ in first })
        return try await postgres.withSession { session in
            var messages: [Outbox.Row] = []
            for seen in try session.query("""
                SELECT order_sn, status, member_id, integration, growth FROM oms_order WHERE order_sn = ANY(\(orders.map(\.orderSn))::text[])
                """).rows where try seen.orderStatus() == move.from {
                let orderSn: String = try seen.decode("order_sn")
                let trace = traces[orderSn] ?? nil
                messages.append(try Outbox.Row(StockMinus(orderSn: orderSn), route: Messaging.stockMinus, traceparent: trace))
                messages.append(try Outbox.Row(
                    OrderPoints(orderSn: orderSn, userId: try seen.decode("member_id"), integration: try seen.decode("integration"), growth: try seen.decode("growth")),
                    route: Messaging.boundPlus, traceparent: trace))
            }
            if messages.isEmpty { return [] }
            return try Set(session.query("""
                WITH moved AS (
                    UPDATE oms_order SET status = \(move.to.rawValue), payment_time = now(), modify_time = now()
                    WHERE order_sn = ANY(\(messages.map(\.orderSn))::text[]) AND status = \(move.from.rawValue)
                    RETURNING order_sn
                ), announced AS (
                    \(Outbox.insert(messages, forOrdersIn: "moved"))
                )
                SELECT order_sn FROM moved
                """).rows.map { try $0.decode("order_sn", as: String.self) })
        }
    }

    /// `order.close`: the payment timeout elapsed, for one order or for a batch of flash-sale
    /// orders made together (`OrderRefs`). A batch's orders close one by one, each on its own,
    /// all of them even when one fails (one order's trouble never keeps the others open); any
    /// failure retries the message, and the orders closed already find nothing to do.
    package func orderClose(_ delivery: AMQPDelivery) async throws -> AMQPOutcome {
        if let batch = try? delivery.decode(OrderRefs.self) {
            guard !batch.orderSns.isEmpty, batch.orderSns.count <= InputLimits.batch.upperBound,
                  batch.orderSns.allSatisfy({ (try? Input.orderNumber($0)) != nil })
            else { return .deadLetter(reason: "malformed order.close batch payload") }
            var failed: [String] = []
            var lastError: (any Error)?
            for orderSn in batch.orderSns {
                do {
                    _ = try await close(orderSn: orderSn)
                } catch {
                    failed.append(orderSn)
                    lastError = error
                }
            }
            if let lastError {
                return .retry(reason: "\(failed.count) of \(batch.orderSns.count) orders not closed (\(failed.prefix(5).joined(separator: ", "))): \(lastError)")
            }
            return .ack
        }
        guard let message = try? delivery.decode(OrderRef.self), !message.orderSn.isEmpty else {
            return .deadLetter(reason: "malformed order.close payload")
        }
        _ = try await close(orderSn: message.orderSn)
        return .ack
    }

    /// Closes an unpaid order now (its timer, or an operator): unpaid → closed, then
    /// stock.unlock, trade.close and, for a flash-sale order, sec.release. True if it closed now;
    /// an order in any other status (or none) is left as it is.
    package func close(orderSn: String) async throws -> Bool {
        let message = OrderRef(orderSn: orderSn)
        let move = OrderLifecycle.move(.paymentTimedOut)
        let closed: Bool = try await postgres.withTransaction { connection in
            // A checkout still locking when its timer fires was given up after its stock was
            // locked: release the lock. Taking the checkout's row lock first also waits for a
            // checkout writing its order right now, so the UPDATE below sees that order.
            if try await Checkout.abandon(orderSn: message.orderSn, on: connection) { return false }
            guard let row = try await connection.query("""
                UPDATE oms_order SET status = \(move.to.rawValue), close_time = now(), modify_time = now()
                WHERE order_sn = \(message.orderSn) AND status = \(move.from.rawValue)
                RETURNING member_id, source_type, session_id
                """).first
            else { return false }  // OrderLifecycle.missed(.paymentTimedOut, …) is always .nothing
            try await Outbox.enqueue(OrderRef(orderSn: message.orderSn), route: Messaging.stockUnlock, on: connection)
            // Alipay's trade (if the buyer opened the cashier) closes too: nobody pays for it now.
            try await Outbox.enqueue(OrderRef(orderSn: message.orderSn), route: Messaging.tradeClose, on: connection)
            if try row.decode("source_type", as: Int.self) == OrderSource.flashSale.rawValue {
                if let item = try await connection.query("SELECT sku_id, sku_quantity FROM oms_order_item WHERE order_sn = \(message.orderSn) LIMIT 1").first {
                    try await Outbox.enqueue(
                        SeckillRelease(
                            orderSn: message.orderSn, skuId: try item.decode("sku_id"), userId: try row.decode("member_id"),
                            count: try item.decode("sku_quantity"), sessionId: try row.decodeIfPresent("session_id")),
                        route: Messaging.secRelease, on: connection)
                } else {
                    // A flash-sale order always has its line; without one there is no permit to name.
                    logger.error("order.close.no_items", metadata: ["order.sn": "\(message.orderSn)"])
                }
            }
            logger.info("order.closed", metadata: ["order.sn": "\(message.orderSn)"])
            return true
        }
        if closed { relay.wake() }
        return closed
    }
}
