import AMQP
import AsyncHTTPClient
import Contracts
import Foundation
import Logging
import OrderService
import Postgres
import Redis
import SeckillService
import ServiceKit
import Testing
import WareService

/// The flash-sale lifecycle around the race: compensations that never undo a live order, locks
/// that stay released, sessions of one sku side by side, Redis reconciled with the durable wins.
@Suite("Flash-sale lifecycle: compensations, sessions and Redis loss never cost a buyer or a unit")
struct FlashSaleLifecycleTests {
    init() async throws { try await TestCluster.shared.start() }

    /// oms's sec.kill handler as the service builds it, but with `redis` of the test's choosing.
    func secKillHandler(redis: RedisPool) -> FlashSaleOrders {
        FlashSaleOrders(
            postgres: Databases.oms, redis: redis,
            relay: OutboxRelay(postgres: Databases.oms, publisher: testPublisher, logger: Logger(label: "test")),
            wms: WareClient(
                baseURL: TestCluster.wmsInternal, http: HTTP.client,
                credential: ServiceCredential(caller: "oms", callee: "wms", key: Array(TestCluster.serviceKey.utf8))),
            closeAfterSeconds: 1800, retry: AMQPRetryPolicy(delays: [300, 300]), logger: Logger(label: "test"))
    }

    func secKill(_ won: SeckillWon, attempt: Int) throws -> AMQPDelivery {
        AMQPDelivery(
            deliveryTag: 1, redelivered: true, exchange: Messaging.exchange, routingKey: Messaging.secKill.routingKey,
            messageID: Messaging.secKill.messageID(orderSn: won.orderSn), headers: ["x-attempt": String(attempt)], body: Array(try ShopJSON.encoder.encode(won)))
    }

    func outboxed(_ messageID: String) async throws -> Int {
        try await Databases.count("SELECT count(*) FROM outbox WHERE message_id = \(messageID)", in: Databases.oms)
    }

    @Test("a sec.kill whose order was committed is never compensated, even when the buyer's latch cannot be counted down on its last attempt")
    func committedOrderNeverCompensated() async throws {
        let (sku, session) = try await openSession(stock: 2)
        let won = SeckillWon(
            orderSn: "K" + String(Int64.random(in: 1_000_000_000...9_999_999_999)), skuId: sku, userId: newMember(), count: 1,
            price: Money("9.90")!, sessionId: session)
        let brokenRedis = RedisPool(host: "127.0.0.1", port: 1, maxConnections: 1)
        let outcome = try await secKillHandler(redis: brokenRedis).secKill(try secKill(won, attempt: 3))
        #expect(try await orderStatus(won.orderSn) == OrderStatus.unpaid.rawValue)
        #expect(try await outboxed("stock.unlock:\(won.orderSn)") == 0)
        #expect(try await outboxed("sec.release:\(won.orderSn)") == 0)
        #expect(try await Databases.count(
            "SELECT count(*) FROM wms_stock_lock WHERE order_sn = \(won.orderSn) AND status = 0", in: Databases.wms) == 1)
        if case .deadLetter = outcome { Issue.record("a created order was dead-lettered (and compensated): \(outcome)") }
    }

    @Test("a batch of sec.kill becomes orders together: each covered win one order with its line and lock, one close timer naming them all; wins past the reservation get no order and are released without their permit; a malformed one is dead-lettered; the batch again changes nothing")
    func batchOfWins() async throws {
        let (sku, session) = try await openSession(stock: 5)
        let wins = (0..<7).map { _ in
            SeckillWon(
                orderSn: "B" + String(Int64.random(in: 1_000_000_000...9_999_999_999)), skuId: sku, userId: newMember(), count: 1,
                price: Money("9.90")!, sessionId: session)
        }
        var batch = try wins.map { try secKill($0, attempt: 1) }
        batch.insert(
            AMQPDelivery(
                deliveryTag: 2, redelivered: false, exchange: Messaging.exchange, routingKey: Messaging.secKill.routingKey, messageID: "x",
                headers: [:], body: Array(#"{"orderSn":"","skuId":1}"#.utf8)),
            at: 3)
        batch.append(try secKill(wins[0], attempt: 1))  // the first win again, beside itself
        let handler = secKillHandler(redis: redis)
        let key = "seckill-session:\(session)"
        func state() async throws -> (orders: Int, locks: Int, remaining: Int, timers: [String], releases: Int) {
            let sns = wins.map(\.orderSn)
            let timers = try await Databases.oms.query("""
                SELECT payload FROM outbox WHERE message_id LIKE 'order.create%'
                  AND EXISTS (SELECT 1 FROM unnest(\(sns)::text[]) AS sn WHERE outbox.payload LIKE '%' || sn || '%')
                """).rows.map { try $0.decode("payload", as: String.self) }
            return (
                try await Databases.count("SELECT count(*) FROM oms_order_item WHERE order_sn = ANY(\(sns)::text[])", in: Databases.oms),
                try await Databases.count("SELECT count(*) FROM wms_stock_lock WHERE order_sn = ANY(\(sns)::text[]) AND status = 0", in: Databases.wms),
                try await Databases.count("SELECT remaining FROM wms_reservation WHERE key = \(key)", in: Databases.wms),
                timers,
                try await Databases.count("""
                    SELECT count(*) FROM outbox WHERE message_id = ANY(\(sns.map { Messaging.secRelease.messageID(orderSn: $0) })::text[])
                      AND payload LIKE '%"restock":false%'
                    """, in: Databases.oms))
        }
        for round in 1...2 {
            let outcomes = try await handler.secKills(batch)
            #expect(outcomes.count == batch.count)
            #expect(outcomes[3] == .deadLetter(reason: "malformed sec.kill payload"), "round \(round)")
            #expect(outcomes.enumerated().filter { $0.offset != 3 }.allSatisfy { $0.element == .ack }, "round \(round): \(outcomes)")
            let now = try await state()
            #expect(now.orders == 5 && now.locks == 5 && now.remaining == 0, "round \(round): \(now)")
            #expect(now.releases == 2, "the two wins past the stock are released without their permits")
            let timer = try #require(now.timers.count == 1 ? now.timers[0] : nil, "one close timer for the batch: \(now.timers)")
            let named = try JSONDecoder().decode(OrderRefs.self, from: Data(timer.utf8)).orderSns
            #expect(named == wins.prefix(5).map(\.orderSn).sorted(), "the five covered wins, in arrival order, in text order")
            for win in wins where named.contains(win.orderSn) {
                #expect(try await orderStatus(win.orderSn) == OrderStatus.unpaid.rawValue)
            }
        }
    }

    @Test("a win wms would refuse (an order number past 64 characters) is dead-lettered alone; its batch-mates become orders; only oms may carve locks from a reservation")
    func badWinInBatch() async throws {
        let (sku, session) = try await openSession(stock: 3)
        let good = (0..<2).map { _ in
            SeckillWon(
                orderSn: "G" + String(Int64.random(in: 1_000_000_000...9_999_999_999)), skuId: sku, userId: newMember(), count: 1,
                price: Money("9.90")!, sessionId: session)
        }
        let bad = SeckillWon(orderSn: String(repeating: "Z", count: 65), skuId: sku, userId: newMember(), count: 1, price: Money("9.90")!, sessionId: session)
        let outcomes = try await secKillHandler(redis: redis).secKills(try [good[0], bad, good[1]].map { try secKill($0, attempt: 1) })
        #expect(outcomes == [.ack, .deadLetter(reason: "malformed sec.kill payload"), .ack])
        for win in good { #expect(try await orderStatus(win.orderSn) == OrderStatus.unpaid.rawValue) }

        let asSeckill = WareClient(
            baseURL: TestCluster.wmsInternal, http: HTTP.client,
            credential: ServiceCredential(caller: "seckill", callee: "wms", key: Array(TestCluster.serviceKey.utf8)))
        let stranger = "NOPE" + String(Int64.random(in: 1_000_000_000...9_999_999_999))
        await #expect(throws: UpstreamError.self) {
            _ = try await asSeckill.lock(ReservationLocks(orders: [ReservationLock(orderSn: stranger, skuId: sku, count: 1)]), from: "seckill-session:\(session)")
        }
        #expect(try await Databases.count("SELECT count(*) FROM wms_stock_lock WHERE order_sn = \(stranger)", in: Databases.wms) == 0)
    }

    @Test("stock.minus on a released lock is dead-lettered as an anomaly, and a released order is never locked again")
    func releasedLockStaysReleased() async throws {
        let sku = try await newSku(stock: 10)
        let orderSn = "REL" + String(sku)
        #expect(try await lockStock(orderSn: orderSn, sku: sku, count: 2).status == .ok)
        let warehouse = Warehouse(postgres: Databases.wms, logger: Logger(label: "test"))
        func delivery(_ route: Messaging.Route) -> AMQPDelivery {
            AMQPDelivery(
                deliveryTag: 1, redelivered: false, exchange: Messaging.exchange, routingKey: route.routingKey,
                messageID: route.messageID(orderSn: orderSn), headers: [:], body: Array(#"{"orderSn":"\#(orderSn)"}"#.utf8))
        }
        #expect(try await warehouse.stockUnlock(delivery(Messaging.stockUnlock)) == .ack)
        #expect(try await SkuState.of(sku).locked == 0)
        let minus = try await warehouse.stockMinus(delivery(Messaging.stockMinus))
        if case .deadLetter = minus {} else { Issue.record("stock.minus on a released lock answered \(minus)") }
        #expect(try await SkuState.of(sku) == SkuState(stock: 10, locked: 0, sales: 0))
        let again = try await lockStock(orderSn: orderSn, sku: sku, count: 2)
        #expect(again.status == .conflict)
        #expect(again.body.contains("\(WareCode.released)"))
        #expect(try await SkuState.of(sku).locked == 0)
    }

    @Test("a session's reservation is released only once every win is settled: not while a sec.kill still waits")
    func reservationWaitsForWins() async throws {
        let (sku, session) = try await openSession(stock: 3, startsIn: -1, lasts: 2)
        // A win recorded by seckill whose sec.kill oms has not handled yet (oms stopped, a backlog).
        let won = SeckillWon(
            orderSn: "W" + String(Int64.random(in: 1_000_000_000...9_999_999_999)), skuId: sku, userId: newMember(), count: 1,
            price: Money("9.90")!, sessionId: session)
        try await smsDatabase.query("""
            INSERT INTO sms_seckill_win (order_sn, session_id, sku_id, user_id, count)
            VALUES (\(won.orderSn), \(session), \(sku), \(won.userId), 1)
            """)
        let key = "seckill-session:\(session)"
        func released() async throws -> Bool {
            try await Databases.wms.query("SELECT released FROM wms_reservation WHERE key = \(key)").first?.decode("released") ?? false
        }
        // Ended 2 s ago plus several keeper ticks: still held for the waiting win.
        try await Task.sleep(for: .seconds(5))
        #expect(try await released() == false)
        // The sec.kill is handled: the order is carved from the reservation, then the rest goes back.
        try await publish(won, route: Messaging.secKill)
        let done = try await eventually(seconds: 10) { try await released() }
        #expect(done)
        #expect(try await orderStatus(won.orderSn) == OrderStatus.unpaid.rawValue)
        #expect(try await SkuState.of(sku).locked == 1)
    }

    @Test("instance ids are leases: live holders never share one; a lease taken over stops the old holder's order numbers until it leases another")
    func instanceIdsAreLeases() async throws {
        let leases = (0..<8).map { _ in InstanceLease(postgres: smsDatabase, ttl: .seconds(60), logger: Logger(label: "test")) }
        var ids: [Int64] = []
        for lease in leases { ids.append(try await lease.acquire()) }
        #expect(Set(ids).count == ids.count, "\(ids)")
        let first = leases[0]
        let numbers = OrderNumbers(lease: first)
        let a = try #require(numbers.next()), b = try #require(numbers.next())
        #expect(a != b)
        #expect(try await first.renew())
        // Another process takes the id over (as after this one froze past its lease).
        try await smsDatabase.query("""
            UPDATE sms_instance_lease SET holder = gen_random_uuid(), expires_at = now() + interval '1 minute' WHERE instance = \(ids[0])
            """)
        #expect(try await first.renew() == false)
        #expect(first.current == nil)
        #expect(numbers.next() == nil)
        let again = try await first.acquire()
        #expect(!ids.contains(again))
        #expect(numbers.next() != nil)
        await first.release()
        for lease in leases.dropFirst() { await lease.release() }
        let left = try await Databases.count(
            "SELECT count(*) FROM sms_instance_lease WHERE instance = ANY(\(ids + [again])::int[]) AND expires_at > now()", in: smsDatabase)
        #expect(left == 1)  // only the id taken over by "another process"
        try await smsDatabase.query("DELETE FROM sms_instance_lease WHERE instance = \(ids[0])")
    }

    @Test("opening the sku's evening session mid-sale does not disturb the running one; each sells its own stock")
    func twoSessionsOfOneSku() async throws {
        let (sku, running) = try await openSession(stock: 4)
        #expect(try await attempt(sku: sku, buyer: newMember()).code == 0)
        let (_, evening) = try await openSession(stock: 3, startsIn: 3600, lasts: 600, sku: sku)
        #expect(evening != running)
        // Several keeper ticks (200 ms in the test cluster) with both sessions unreleased.
        var codes: [Int] = []
        for _ in 0..<6 {
            try await Task.sleep(for: .milliseconds(250))
            codes.append(try await attempt(sku: sku, buyer: newMember()).code)
        }
        #expect(codes == [0, 0, 0, 1001, 1001, 1001], "\(codes)")
        #expect(try await SaleState.of(sku: sku, session: running).permits == 0)
        #expect(try await SaleState.of(sku: sku, session: evening).permits == 3)
        // Overlapping a session of the same sku is refused at creation.
        await #expect(throws: ClusterError.self) { _ = try await openSession(stock: 1, startsIn: 3500, lasts: 600, sku: sku) }
    }

    @Test("the lost last second of Redis (a win's permit, buyer count and record undone by hand): PostgreSQL refuses the repeat, the keeper repairs Redis, nobody is sold past the stock or the limit")
    func lostSecondOfRedis() async throws {
        let (sku, session) = try await openSession(stock: 3, limit: 1)
        let first = newMember()
        let won = try await attempt(sku: sku, buyer: first)
        let orderSn = try #require(won.orderSn)
        // What an OS crash with appendfsync everysec can lose: the win's writes of the last second.
        _ = try await redis.send(["INCRBY", FlashSaleKeys.permits(sku, session: session), "1"])
        _ = try await redis.send(["HDEL", FlashSaleKeys.buyers(sku, session: session), String(first)])
        _ = try await redis.send(["HDEL", FlashSaleKeys.wins(sku, session: session), orderSn])
        // Redis would sell the buyer a second unit; PostgreSQL remembers the first.
        #expect(try await attempt(sku: sku, buyer: first).code == AttemptResult.alreadyBought.code)
        // The keeper puts the forgotten win back into Redis.
        let repaired = try await eventually(seconds: 5) {
            let permits = try await redis.send(["GET", FlashSaleKeys.permits(sku, session: session)]).int
            let held = try await redis.send(["HGET", FlashSaleKeys.buyers(sku, session: session), String(first)]).int
            return permits == 2 && held == 1
        }
        #expect(repaired)
        var codes: [Int] = []
        for _ in 0..<4 { codes.append(try await attempt(sku: sku, buyer: newMember()).code) }
        #expect(codes.sorted() == [0, 0, 1001, 1001], "\(codes)")
        let settled = try await eventually(seconds: 10) { try await SaleState.of(sku: sku, session: session).orders == 3 }
        #expect(settled)
        let state = try await SaleState.of(sku: sku, session: session)
        #expect(state.maxPerBuyer == 1 && state.reservationRemaining == 0 && state.lockedFromReservation == 3, "\(state)")
        #expect(try await orderStatus(orderSn) == OrderStatus.unpaid.rawValue)
    }
}
