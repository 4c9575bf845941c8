import AMQP
import Contracts
import Foundation
import Logging
import Postgres
import Redis
import ServiceKit

/// oms's `sec.kill` consumer: creates the flash-sale order (status 0, the session price) with its
/// stock lock carved out of the session's wms reservation, idempotent on orderSn, then opens
/// the buyer's pay-wait latch. The reservation is the last guard: if it is empty (Redis was wrong),
/// the order is refused and the buyer is told "sold out".
package struct FlashSaleOrders: Sendable {
    package let postgres: PostgresPool
    package let redis: RedisPool
    package let relay: OutboxRelay
    package let wms: WareClient
    /// An unpaid order closes after this (the delay queue `ORDER-DELAY-<N>s`).
    package let closeAfterSeconds: Int
    /// The consumer's retry policy: the handler compensates only on the last attempt.
    package let retry: AMQPRetryPolicy
    package let logger: Logger

    package init(
        postgres: PostgresPool, redis: RedisPool, relay: OutboxRelay, wms: WareClient, closeAfterSeconds: Int, retry: AMQPRetryPolicy,
        logger: Logger
    ) {
        self.postgres = postgres
        self.redis = redis
        self.relay = relay
        self.wms = wms
        self.closeAfterSeconds = closeAfterSeconds
        self.retry = retry
        self.logger = logger
    }


    package func secKill(_ delivery: AMQPDelivery) async throws -> AMQPOutcome {
        guard let (m, session) = Self.win(in: delivery) else { return .deadLetter(reason: "malformed sec.kill payload") }
        do {
            // A win already settled without an order (given back by a last attempt, or refused by
            // the reservation) stays settled: a replayed dead letter must not make an order for a
            // permit that was handed out again.
            if try await settledWithoutOrder([m.orderSn]).contains(m.orderSn) { return .ack }
            let lock = StockLockRequest(
                orderSn: m.orderSn, items: [LockLine(skuId: m.skuId, count: m.count)], reservationKey: FlashSaleReservation.key(session: session))
            switch try await wms.lock(lock) {
            case .shortage:
                // Redis issued a permit the reservation cannot cover: no order. The win is settled
                // as released, without handing the permit back (there is no unit behind it).
                logger.warning("seckill.order.refused", metadata: ["order.sn": "\(m.orderSn)", "reason": "reservation empty"])
                try await enqueueRelease(m, session: session, restock: false, unlockStock: false)
                try? await PayWaitLatch.open(redis, sku: m.skuId, orderSn: m.orderSn, outcome: .soldOut)
                return .ack
            case .released:
                // The order existed and was closed (its lock released, its permit given back by
                // the close): this is a late repeat, nothing to create.
                return .ack
            case .locked:
                break
            }
            try await createOrder(m, session: session)
        } catch {
            guard delivery.attempt >= retry.maxAttempts else { throw error }  // the consumer retries later
            return try await giveUp(m, session: session, error: error)
        }
        relay.wake()
        do {
            try await PayWaitLatch.open(redis, sku: m.skuId, orderSn: m.orderSn, outcome: .ok)
        } catch {
            // The order exists: never undone for the latch. The pay-wait falls back to
            // "processing"; the buyer's order view (`GET /oms/order/{SN}`) shows the order.
            logger.warning("seckill.latch.not_opened", error: error, metadata: ["order.sn": "\(m.orderSn)"])
        }
        return .ack
    }

    /// The win a `sec.kill` carries and its session, if it is one an order can be made of (the
    /// limits wms checks too: one bad win in a batch would otherwise fail the batch's wms call).
    static func win(in delivery: AMQPDelivery) -> (SeckillWon, Int64)? {
        guard let m = try? delivery.decode(SeckillWon.self), (try? Input.orderNumber(m.orderSn)) != nil, InputLimits.count.contains(m.count),
              InputLimits.id.contains(m.userId), InputLimits.id.contains(m.skuId), m.price.amount > 0, let session = m.sessionId,
              InputLimits.id.contains(session)
        else { return nil }
        return (m, session)
    }

    /// The wins of `orderSns` this handler gave back earlier (their `sec.release` is in the
    /// outbox) that have no order, in one query: a close also sends `sec.release`, but only for
    /// an order that exists.
    func settledWithoutOrder(_ orderSns: [String]) async throws -> Set<String> {
        let ids = orderSns.map { Messaging.secRelease.messageID(orderSn: $0) }
        return try await Set(postgres.query("""
            SELECT t.sn FROM unnest(\(orderSns)::text[], \(ids)::text[]) AS t (sn, id)
            WHERE EXISTS (SELECT 1 FROM outbox WHERE message_id = t.id)
              AND NOT EXISTS (SELECT 1 FROM oms_order WHERE order_sn = t.sn)
            """).rows.map { try $0.decode("sn", as: String.self) })
    }

    /// The order with its line and its close timer, once (a repeat finds it and does nothing):
    /// one statement, atomic on its own, instead of a transaction of five (each a round trip and
    /// two thread hops: measured with deploy/bench/cost). The line's foreign key to the order
    /// is checked at the statement's end, after both rows exist.
    private func createOrder(_ m: SeckillWon, session: Int64) async throws {
        let total = m.price.amount * Decimal(m.count)
        let timer = try Outbox.Row(OrderRef(orderSn: m.orderSn), route: Messaging.orderDelay(seconds: closeAfterSeconds))
        try await postgres.query("""
            WITH placed AS (
                INSERT INTO oms_order (order_sn, member_id, status, total_amount, pay_amount, integration, growth, source_type, session_id, pay_deadline)
                VALUES (\(m.orderSn), \(m.userId), \(OrderStatus.unpaid.rawValue), \(total), \(total), \(Self.points(total)), \(Self.points(total)),
                        \(OrderSource.flashSale.rawValue), \(session), now() + make_interval(secs => \(closeAfterSeconds)))
                ON CONFLICT (order_sn) DO NOTHING
                RETURNING id
            ), line AS (
                INSERT INTO oms_order_item (order_id, order_sn, sku_id, sku_name, sku_price, sku_quantity)
                SELECT id, \(m.orderSn), \(m.skuId)::bigint, \("秒杀商品 \(m.skuId)"), \(m.price.amount)::numeric, \(m.count)::int FROM placed
            )
            \(Outbox.insert([timer], when: "placed"))
            """)
    }

    /// The last attempt failed. Only a handler that did not create the order may give its stock
    /// and permit back: if the order exists (its commit may have landed before the failure), it
    /// stays, payable, and nothing is undone. If that cannot even be checked, nothing is undone
    /// either: the dead letter waits for an operator's replay.
    private func giveUp(_ m: SeckillWon, session: Int64, error: any Error) async throws -> AMQPOutcome {
        logger.error("seckill.order.failed", error: error, metadata: ["order.sn": "\(m.orderSn)"])
        let exists: Bool
        do {
            exists = try await postgres.query("SELECT 1 FROM oms_order WHERE order_sn = \(m.orderSn)").first != nil
        } catch {
            return .deadLetter(reason: "order creation failed on every attempt and its existence is unknown: \(error)")
        }
        if exists { return .deadLetter(reason: "order exists but its last handling failed: \(error)") }
        try await enqueueRelease(m, session: session, restock: nil, unlockStock: true)
        try? await PayWaitLatch.open(redis, sku: m.skuId, orderSn: m.orderSn, outcome: .failed)
        return .deadLetter(reason: "order creation failed on every attempt (stock and permit given back): \(error)")
    }

    /// `sec.release` for a win that will have no order (`restock` false keeps the permit out of
    /// Redis), with `stock.unlock` in the same commit when a lock may exist.
    private func enqueueRelease(_ m: SeckillWon, session: Int64, restock: Bool?, unlockStock: Bool) async throws {
        try await postgres.withTransaction { connection in
            if unlockStock {
                try await Outbox.enqueue(OrderRef(orderSn: m.orderSn), route: Messaging.stockUnlock, on: connection)
            }
            try await Outbox.enqueue(
                SeckillRelease(orderSn: m.orderSn, skuId: m.skuId, userId: m.userId, count: m.count, sessionId: session, restock: restock),
                route: Messaging.secRelease, on: connection)
        }
        relay.wake()
    }

    /// Points for a paid order: one per whole yuan.
    static func points(_ amount: Decimal) -> Int64 {
        var value = amount
        var rounded = Decimal()
        NSDecimalRound(&rounded, &value, 0, .down)
        return NSDecimalNumber(decimal: rounded).int64Value
    }
}
