import AMQP
import Contracts
import Foundation
import Logging
import Postgres
import Redis
import ServiceKit

/// oms's `sec.kill` consumer: creates the flash-sale order (status 0, the session price) with its
/// stock lock carved out of the session's wms reservation, idempotent on orderSn, then counts
/// the buyer's latch down. The reservation is the last guard: if it is empty (Redis was wrong),
/// the order is refused and the buyer is told "sold out".
package struct FlashSaleOrders: Sendable {
    package let postgres: PostgresPool
    package let redis: RedisPool
    package let relay: OutboxRelay
    package let wms: WareClient
    /// An unpaid order closes after this (a per-message TTL on `order.create`).
    package let closeAfterSeconds: Int
    package let logger: Logger


    package func secKill(_ delivery: AMQPDelivery) async throws -> AMQPOutcome {
        guard let m = try? delivery.decode(SeckillWon.self), !m.orderSn.isEmpty, m.count > 0, m.userId > 0, m.price.amount > 0,
              let session = m.sessionId
        else { return .deadLetter(reason: "malformed sec.kill payload") }
        do {
            let lock = StockLockRequest(
                orderSn: m.orderSn, items: [LockLine(skuId: m.skuId, count: m.count)], reservationKey: "seckill-session:\(session)")
            switch try await wms.lock(lock) {
            case .shortage, .released:
                logger.warning("seckill.order.refused", metadata: ["order.sn": "\(m.orderSn)", "reason": "reservation empty"])
                try await FlashSaleLatch.countDown(redis, sku: m.skuId, orderSn: m.orderSn, result: "soldout")
                return .ack
            case .locked:
                break
            }
            let total = m.price.amount * Decimal(m.count)
            try await postgres.withTransaction { connection in
                let inserted = try await connection.query("""
                    INSERT INTO oms_order (order_sn, member_id, status, total_amount, pay_amount, integration, growth, source_type, session_id)
                    VALUES (\(m.orderSn), \(m.userId), 0, \(total), \(total), \(Self.points(total)), \(Self.points(total)), 1, \(session))
                    ON CONFLICT (order_sn) DO NOTHING
                    RETURNING id
                    """).first
                guard let id = try inserted?.decode("id", as: Int64.self) else { return }
                try await connection.query("""
                    INSERT INTO oms_order_item (order_id, order_sn, sku_id, sku_name, sku_price, sku_quantity)
                    VALUES (\(id), \(m.orderSn), \(m.skuId), \("秒杀商品 \(m.skuId)"), \(m.price.amount), \(m.count))
                    """)
                try await Outbox.enqueue(
                    OrderRef(orderSn: m.orderSn), route: Messaging.orderDelay(seconds: closeAfterSeconds), messageID: "order.create:\(m.orderSn)",
                    on: connection)
            }
            relay.wake()
            try await FlashSaleLatch.countDown(redis, sku: m.skuId, orderSn: m.orderSn, result: "ok")
            return .ack
        } catch where delivery.redelivered {
            // The one retry failed too: give the stock and the permit back, tell the buyer, dead-letter.
            logger.error("seckill.order.failed", metadata: ["order.sn": "\(m.orderSn)", "error": "\(error)"])
            try await postgres.withTransaction { connection in
                try await Outbox.enqueue(OrderRef(orderSn: m.orderSn), route: Messaging.stockUnlock, messageID: "stock.unlock:\(m.orderSn)", on: connection)
                try await Outbox.enqueue(
                    SeckillRelease(orderSn: m.orderSn, skuId: m.skuId, userId: m.userId, count: m.count, sessionId: session),
                    route: Messaging.secRelease, messageID: "sec.release:\(m.orderSn)", on: connection)
            }
            relay.wake()
            try? await FlashSaleLatch.countDown(redis, sku: m.skuId, orderSn: m.orderSn, result: "failed")
            return .deadLetter(reason: "order creation failed twice: \(error)")
        }
    }

    /// Points for a paid order: one per whole yuan.
    static func points(_ amount: Decimal) -> Int64 {
        var value = amount
        var rounded = Decimal()
        NSDecimalRound(&rounded, &value, 0, .down)
        return NSDecimalNumber(decimal: rounded).int64Value
    }
}
