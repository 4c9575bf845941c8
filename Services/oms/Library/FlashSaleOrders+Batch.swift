import AMQP
import Contracts
import Foundation
import Postgres
import ServiceKit

/// `sec.kill` in batches: what the consumer has in hand becomes orders together, at the cost of a
/// few statements and one wms call for the batch instead of each per order (issue 15: wins into
/// orders). Each order stays all or nothing and idempotent on its number, apart from the others:
/// - one query finds the wins settled without an order (given back earlier), which stay so;
/// - one call per session carves the others' locks from its reservation (`/wms/reservations/{key}/locks`),
///   each answered on its own: locked, shortage (no order, the win released without its permit)
///   or released (a late repeat of a closed order);
/// - one statement writes every locked order, its line and one close timer for the batch.
/// Anything that throws on the way hands the batch to the single-delivery handler, one by one,
/// with its retries and its last-attempt compensation: what the batch did is found done again.
extension FlashSaleOrders {
    package func secKills(_ batch: [AMQPDelivery]) async throws -> [AMQPOutcome] {
        if batch.count == 1 { return [try await secKill(batch[0])] }
        var outcomes = [AMQPOutcome?](repeating: nil, count: batch.count)
        var wins: [BatchedWin] = []
        var seen = Set<String>()
        for (index, delivery) in batch.enumerated() {
            guard let (m, session) = Self.win(in: delivery) else {
                outcomes[index] = .deadLetter(reason: "malformed sec.kill payload")
                continue
            }
            // A second copy of one win (a retry beside its original) goes the single way, after.
            guard seen.insert(m.orderSn).inserted else { continue }
            wins.append(BatchedWin(index: index, win: m, session: session, trace: ShopTracing.traceparent(for: delivery)))
        }
        do {
            try await makeOrders(wins, outcomes: &outcomes)
        } catch {
            logger.warning("seckill.batch.failed", error: error, metadata: ["messaging.batch.message_count": "\(batch.count)"])
        }
        return await batch.settled(outcomes, oneByOne: secKill)
    }

    /// One win of a batch, where it sits in the batch and the trace its messages continue.
    private struct BatchedWin {
        let index: Int
        let win: SeckillWon
        let session: Int64
        let trace: String?
    }

    private func makeOrders(_ wins: [BatchedWin], outcomes: inout [AMQPOutcome?]) async throws {
        let settled = try await settledWithoutOrder(wins.map(\.win.orderSn))
        var toCreate: [BatchedWin] = []
        var refused: [BatchedWin] = []
        for (session, group) in Dictionary(grouping: wins.filter { !settled.contains($0.win.orderSn) }, by: \.session) {
            let request = ReservationLocks(orders: group.map { ReservationLock(orderSn: $0.win.orderSn, skuId: $0.win.skuId, count: $0.win.count) })
            let answers = try await wms.lock(request, from: FlashSaleReservation.key(session: session))
            for (win, answer) in zip(group, answers) {
                switch answer.outcome {
                case .locked: toCreate.append(win)
                case .shortage: refused.append(win)
                case .released: break  // a late repeat of a closed order: nothing to make
                }
            }
        }
        if !toCreate.isEmpty { try await createOrders(toCreate.map { ($0.win, $0.session) }) }
        if !refused.isEmpty {
            // Redis issued permits the reservation cannot cover: no orders, the wins settled as
            // released without handing the permits back (there is no unit behind them).
            for win in refused {
                logger.warning("seckill.order.refused", metadata: ["order.sn": "\(win.win.orderSn)", "reason": "reservation empty"])
            }
            try await postgres.query(Outbox.insert(try refused.map { win in
                try Outbox.Row(
                    SeckillRelease(orderSn: win.win.orderSn, skuId: win.win.skuId, userId: win.win.userId, count: win.win.count, sessionId: win.session, restock: false),
                    route: Messaging.secRelease, traceparent: win.trace)
            }))
        }
        if !toCreate.isEmpty || !refused.isEmpty { relay.wake() }
        // Every win is settled now: given back earlier, a late repeat, refused, or made.
        for win in wins { outcomes[win.index] = .ack }
        // The latches last: the orders exist whatever Redis says (the pay-wait falls back to
        // "processing" and the buyer's order view shows the order).
        await withTaskGroup(of: Void.self) { latches in
            for (wins, outcome) in [(toCreate, FlashSaleLatch.Outcome.ok), (refused, .soldOut)] {
                for win in wins {
                    latches.addTask {
                        do {
                            try await PayWaitLatch.open(redis, sku: win.win.skuId, orderSn: win.win.orderSn, outcome: outcome)
                        } catch {
                            logger.warning("seckill.latch.not_opened", error: error, metadata: ["order.sn": "\(win.win.orderSn)"])
                        }
                    }
                }
            }
        }
    }

    /// Every order with its line, and one close timer for those made now, in one statement
    /// (atomic on its own): an order that exists already is left as it is and is not in the
    /// timer (its own timer was written with it).
    private func createOrders(_ wins: [(win: SeckillWon, session: Int64)]) async throws {
        let delay = Messaging.orderDelay(seconds: closeAfterSeconds)
        let totals = wins.map { $0.win.price.amount * Decimal($0.win.count) }
        try await postgres.query("""
            WITH input AS (
                SELECT * FROM unnest(\(wins.map(\.win.orderSn))::text[], \(wins.map(\.win.userId))::bigint[], \(totals)::numeric[],
                                     \(totals.map(Self.points))::bigint[], \(wins.map(\.session))::bigint[], \(wins.map(\.win.skuId))::bigint[],
                                     \(wins.map(\.win.price.amount))::numeric[], \(wins.map(\.win.count))::int[])
                    AS t (order_sn, member_id, total, points, session_id, sku_id, price, count)
            ), placed AS (
                INSERT INTO oms_order (order_sn, member_id, status, total_amount, pay_amount, integration, growth, source_type, session_id, pay_deadline)
                SELECT order_sn, member_id, \(OrderStatus.unpaid.rawValue), total, total, points, points, \(OrderSource.flashSale.rawValue), session_id,
                       now() + make_interval(secs => \(closeAfterSeconds))
                FROM input
                ON CONFLICT (order_sn) DO NOTHING
                RETURNING id, order_sn
            ), line AS (
                INSERT INTO oms_order_item (order_id, order_sn, sku_id, sku_name, sku_price, sku_quantity)
                SELECT p.id, p.order_sn, i.sku_id, \("秒杀商品 ")::text || i.sku_id, i.price, i.count FROM placed p JOIN input i USING (order_sn)
            )
            INSERT INTO outbox (message_id, routing_key, payload, traceparent)
            SELECT \(delay.batchIDPrefix)::text || min(order_sn), \(delay.routingKey)::text,
                   json_build_object('orderSns', json_agg(order_sn ORDER BY order_sn))::text, \(ShopTracing.traceparent())::text
            FROM placed HAVING count(*) > 0
            ON CONFLICT (message_id) DO NOTHING
            """)
    }
}
