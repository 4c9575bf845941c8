import AMQP
import Contracts
import Foundation
import Logging
import OrderService
import Postgres
import ServiceKit
import Testing
import WareService

/// A sku of its own for each test, so counts are exact whatever else runs.
func newSku(stock: Int) async throws -> Int64 {
    let sku = Int64.random(in: 1_000_000...9_000_000_000)
    try await Databases.wms.query("INSERT INTO wms_ware_sku (sku_id, ware_id, sku_name, stock) VALUES (\(sku), 1, 'test sku', \(stock))")
    return sku
}

struct SkuState: Equatable {
    let stock: Int, locked: Int, sales: Int
    static func of(_ sku: Int64) async throws -> SkuState {
        let row = try await Databases.wms.query("SELECT sum(stock) AS s, sum(stock_locked) AS l, sum(sales) AS x FROM wms_ware_sku WHERE sku_id = \(sku)").rows[0]
        return SkuState(stock: try row.decode("s"), locked: try row.decode("l"), sales: try row.decode("x"))
    }
}

func lockStock(orderSn: String, sku: Int64, count: Int) async throws -> HTTP.Reply {
    try await wmsCall("/wms/lock", #"{"orderSn":"\#(orderSn)","items":[{"skuId":\#(sku),"count":\#(count)}]}"#)
}

/// A call to wms's internal listener as oms makes it (a service token), or as `caller`, or with
/// no token at all (`caller: nil`).
func wmsCall(_ path: String, _ body: String, caller: String? = "oms") async throws -> HTTP.Reply {
    var headers = [("Content-Type", "application/json")]
    if let caller { headers.append((ServiceToken.header, TestCluster.serviceToken(caller, to: "wms"))) }
    return try await HTTP.send(TestCluster.wmsInternal + path, method: .POST, headers: headers, body: body)
}

/// Publishes to the shop's exchange with confirms, as the outbox relays do.
let testPublisher = AMQPPublisher(endpoint: AMQPEndpoint(port: ProcessEnvironment().int("GMALL_AMQP_PORT") ?? 55672), topology: .gmall)

func publish<T: OrderMessage>(_ payload: T, route: Messaging.Route) async throws {
    try await testPublisher.publish(try .json(payload, route: route))
}

func orderStatus(_ orderSn: String) async throws -> Int {
    try await Databases.oms.query("SELECT status FROM oms_order WHERE order_sn = \(orderSn)").first?.decode("status") ?? -1
}

func points(_ member: Int64) async throws -> (Int64, Int64) {
    guard let row = try await Databases.ums.query("SELECT integration, growth FROM ums_member WHERE id = \(member)").first else { return (0, 0) }
    return (try row.decode("integration"), try row.decode("growth"))
}

func historyRows(_ orderSn: String) async throws -> Int {
    try await Databases.count("SELECT count(*) FROM ums_points_history WHERE order_sn = \(orderSn)", in: Databases.ums)
}

/// A member id of its own for each test.
func newMember() -> Int64 { Int64.random(in: 10_000_000...9_000_000_000) }

@Suite("Orders, stock and points: exactly-once effects through the real broker")
struct OrderFlowTests {
    init() async throws { try await TestCluster.shared.start() }

    /// An unpaid order for a fresh member and sku with its stock locked.
    func lockedOrder(stock: Int = 10, quantity: Int = 2) async throws -> (orderSn: String, sku: Int64, member: Int64) {
        let sku = try await newSku(stock: stock)
        let member = newMember()
        let orderSn = try await Databases.newOrder(member: member, price: "10.00", quantity: quantity, sku: sku, integration: 20, growth: 30)
        #expect(try await lockStock(orderSn: orderSn, sku: sku, count: quantity).status == .ok)
        return (orderSn, sku, member)
    }

    @Test("one order.pay: status 0→1, the lock becomes a sale, the points are credited once")
    func paidOrder() async throws {
        let (orderSn, sku, member) = try await lockedOrder()
        #expect(try await SkuState.of(sku) == SkuState(stock: 10, locked: 2, sales: 0))
        try await publish(OrderPaid(orderSn: orderSn), route: Messaging.orderPay)
        let done = try await eventually {
            let sales = try await SkuState.of(sku).sales
            let credited = try await points(member)
            return sales == 2 && credited == (20, 30)
        }
        #expect(done)
        #expect(try await orderStatus(orderSn) == 1)
        #expect(try await SkuState.of(sku) == SkuState(stock: 8, locked: 0, sales: 2))
        #expect(try await historyRows(orderSn) == 1)
    }

    @Test("the same order.pay five times, and a close after it: one effect")
    func redelivered() async throws {
        let (orderSn, sku, member) = try await lockedOrder()
        for _ in 0..<5 { try await publish(OrderPaid(orderSn: orderSn), route: Messaging.orderPay) }
        // order.close travels on its own queue: it is "after" the payment once the payment took effect
        let paidFirst = try await eventually { try await orderStatus(orderSn) == 1 }
        #expect(paidFirst)
        try await publish(OrderRef(orderSn: orderSn), route: Messaging.orderClose)
        let done = try await eventually {
            let sales = try await SkuState.of(sku).sales
            let credited = try await points(member)
            return sales == 2 && credited == (20, 30)
        }
        #expect(done)
        // the duplicates of bound.plus and stock.minus the duplicates could cause
        for _ in 0..<5 {
            try await publish(OrderPoints(orderSn: orderSn, userId: member, integration: 20, growth: 30), route: Messaging.boundPlus)
            try await publish(StockMinus(orderSn: orderSn), route: Messaging.stockMinus)
            try await publish(OrderRef(orderSn: orderSn), route: Messaging.stockUnlock)
        }
        try await Task.sleep(nanoseconds: 1_500_000_000)
        #expect(try await orderStatus(orderSn) == 1)
        #expect(try await SkuState.of(sku) == SkuState(stock: 8, locked: 0, sales: 2))
        #expect(try await points(member) == (20, 30))
        #expect(try await historyRows(orderSn) == 1)
    }

    @Test("a close timer expires into order.close on time, even parked after a longer timer (one delay queue per timeout)")
    func closeTimerExpires() async throws {
        let endpoint = AMQPEndpoint(port: ProcessEnvironment().int("GMALL_AMQP_PORT") ?? 55672)
        let long = AMQPPublisher(endpoint: endpoint, topology: .gmall(orderTimeoutSeconds: 3600))
        let short = AMQPPublisher(endpoint: endpoint, topology: .gmall(orderTimeoutSeconds: 1))
        // Both publishers are closed however the test ends (`defer` cannot await): a publisher
        // dropped with its connection open asserts, which would crash the test process.
        do {
            let unknown = "T-nobody-\(UUID().uuidString)"
            try await long.publish(try .json(OrderRef(orderSn: unknown), route: Messaging.orderDelay(seconds: 3600)))
            let (orderSn, sku, _) = try await lockedOrder()
            try await short.publish(try .json(OrderRef(orderSn: orderSn), route: Messaging.orderDelay(seconds: 1)))
            let closed = try await eventually(seconds: 15) { try await orderStatus(orderSn) == 4 }
            #expect(closed)
            let released = try await eventually { try await SkuState.of(sku).locked == 0 }
            #expect(released)
        } catch {
            await long.close()
            await short.close()
            throw error
        }
        await long.close()
        await short.close()
    }

    @Test("a batch's close timer closes every order it names, on time, each once")
    func batchCloseTimer() async throws {
        let endpoint = AMQPEndpoint(port: ProcessEnvironment().int("GMALL_AMQP_PORT") ?? 55672)
        let short = AMQPPublisher(endpoint: endpoint, topology: .gmall(orderTimeoutSeconds: 1))
        do {
            let first = try await lockedOrder()
            let second = try await lockedOrder()
            let batch = OrderRefs(orderSns: [first.orderSn, second.orderSn])
            try await short.publish(AMQPMessage(
                exchange: Messaging.exchange, routingKey: Messaging.orderDelay(seconds: 1).routingKey,
                body: Array(try ShopJSON.encoder.encode(batch)), messageID: Messaging.orderDelay(seconds: 1).batchIDPrefix + first.orderSn))
            let closed = try await eventually(seconds: 15) {
                let statuses = [try await orderStatus(first.orderSn), try await orderStatus(second.orderSn)]
                return statuses == [4, 4]
            }
            #expect(closed)
            #expect(try await eventually {
                let locked = [try await SkuState.of(first.sku).locked, try await SkuState.of(second.sku).locked]
                return locked == [0, 0]
            })
            #expect(try await Databases.count(
                "SELECT count(*) FROM outbox WHERE message_id = ANY(\([first.orderSn, second.orderSn].map { "stock.unlock:" + $0 })::text[])",
                in: Databases.oms) == 2)
        } catch {
            await short.close()
            throw error
        }
        await short.close()
    }

    @Test("a close before the payment: closed, stock released, no points, and the money asked back from payment once")
    func closedThenPaid() async throws {
        let (orderSn, sku, member) = try await lockedOrder()
        try await publish(OrderRef(orderSn: orderSn), route: Messaging.orderClose)
        let released = try await eventually { try await SkuState.of(sku).locked == 0 }
        #expect(released)
        for _ in 0..<3 { try await publish(OrderPaid(orderSn: orderSn), route: Messaging.orderPay) }
        let refund = try await eventually {
            try await Databases.count("SELECT count(*) FROM outbox WHERE message_id = \(Messaging.paymentRefund.messageID(orderSn: orderSn))", in: Databases.oms) == 1
        }
        #expect(refund)
        let payload = try await Databases.oms.query("SELECT payload FROM outbox WHERE message_id = \(Messaging.paymentRefund.messageID(orderSn: orderSn))").rows[0]
        #expect(try ShopJSON.decoder.decode(RefundRequest.self, from: Data(try payload.decode("payload", as: String.self).utf8))
            == RefundRequest(orderSn: orderSn, amount: Money("20.00")!, reason: .closedOrder))
        #expect(try await orderStatus(orderSn) == 4)
        #expect(try await SkuState.of(sku) == SkuState(stock: 10, locked: 0, sales: 0))
        #expect(try await points(member) == (0, 0))
    }

    @Test("a consumer that committed and died before its ack: the redelivery has no second effect")
    func crashBetweenCommitAndAck() async throws {
        let (orderSn, sku, member) = try await lockedOrder()
        try await publish(OrderPaid(orderSn: orderSn), route: Messaging.orderPay)
        let paid = try await eventually { try await SkuState.of(sku).sales == 2 }
        #expect(paid)
        // The handlers commit exactly as the consumers do, but nothing acks: a killed process.
        let warehouse = Warehouse(postgres: Databases.wms, logger: Logger(label: "test"))
        let delivery = AMQPDelivery(
            deliveryTag: 1, redelivered: false, exchange: Messaging.exchange, routingKey: Messaging.stockMinus.routingKey,
            messageID: Messaging.stockMinus.messageID(orderSn: orderSn), headers: [:], body: Array(#"{"orderSn":"\#(orderSn)"}"#.utf8))
        #expect(try await warehouse.stockMinus(delivery) == .ack)
        // ...and the broker redelivers it to the restarted consumer (redelivered flag set).
        try await publish(StockMinus(orderSn: orderSn), route: Messaging.stockMinus)
        let ledger = PointsLedger(postgres: Databases.ums)
        let bound = AMQPDelivery(
            deliveryTag: 1, redelivered: true, exchange: Messaging.exchange, routingKey: Messaging.boundPlus.routingKey,
            messageID: Messaging.boundPlus.messageID(orderSn: orderSn), headers: [:], body: Array(#"{"orderSn":"\#(orderSn)","userId":\#(member),"integration":20,"growth":30}"#.utf8))
        #expect(try await ledger.boundsPlus([bound]) == [.ack])
        try await Task.sleep(nanoseconds: 1_000_000_000)
        #expect(try await SkuState.of(sku) == SkuState(stock: 8, locked: 0, sales: 2))
        #expect(try await points(member) == (20, 30))
    }

    /// A delivery of `route` with `body` as a consumer would hand it over.
    func delivery(_ route: Messaging.Route, _ body: String, orderSn: String) -> AMQPDelivery {
        AMQPDelivery(
            deliveryTag: 1, redelivered: false, exchange: Messaging.exchange, routingKey: route.routingKey,
            messageID: route.messageID(orderSn: orderSn), headers: [:], body: Array(body.utf8))
    }

    @Test("order.pay in a batch: each unpaid order paid once with its sale and points; a closed order's payment asks its refund, an unknown order is retried, a malformed message dead-lettered; the batch again changes nothing")
    func orderPayBatch() async throws {
        let sku = try await newSku(stock: 10)
        let member = newMember()
        var paid: [String] = []
        for _ in 0..<2 {
            let orderSn = try await Databases.newOrder(member: member, price: "10.00", quantity: 2, sku: sku, integration: 20, growth: 30)
            #expect(try await lockStock(orderSn: orderSn, sku: sku, count: 2).status == .ok)
            paid.append(orderSn)
        }
        let handlers = OrderMessageHandlers(
            postgres: Databases.oms, relay: OutboxRelay(postgres: Databases.oms, publisher: testPublisher, logger: Logger(label: "test")),
            logger: Logger(label: "test"))
        let closed = try await lockedOrder()
        #expect(try await handlers.close(orderSn: closed.orderSn))
        let unknown = "T-nobody-\(UUID().uuidString.prefix(8))"
        let batch = [paid[0], paid[1], closed.orderSn, unknown, "", paid[0]].map { orderSn in
            delivery(Messaging.orderPay, #"{"orderSn":"\#(orderSn)"}"#, orderSn: orderSn)
        }
        for round in 1...2 {
            let outcomes = try await handlers.ordersPaid(batch)
            #expect(outcomes.count == 6)
            #expect(outcomes[0] == .ack && outcomes[1] == .ack && outcomes[2] == .ack && outcomes[5] == .ack, "round \(round): \(outcomes)")
            if case .retry = outcomes[3] {} else { Issue.record("an order not there yet is retried, round \(round): \(outcomes[3])") }
            #expect(outcomes[4] == .deadLetter(reason: "malformed order.pay payload"))
            let statuses = [try await orderStatus(paid[0]), try await orderStatus(paid[1]), try await orderStatus(closed.orderSn)]
            #expect(statuses == [1, 1, 4])
            let done = try await eventually {
                let sales = try await SkuState.of(sku).sales
                let credited = try await points(member)
                return sales == 4 && credited == (40, 60)
            }
            #expect(done, "both orders sold and credited, once")
            #expect(try await Databases.count(
                "SELECT count(*) FROM outbox WHERE message_id = \(Messaging.paymentRefund.messageID(orderSn: closed.orderSn))", in: Databases.oms) == 1)
        }
        try await Task.sleep(for: .seconds(1))
        #expect(try await SkuState.of(sku) == SkuState(stock: 6, locked: 0, sales: 4))
        #expect(try await points(member) == (40, 60))
    }

    @Test("stock.minus and bound.plus in batches: two orders of one sku sold together count both, one member's two orders credit both; a repeat, a second copy, a malformed message and an order without a lock are each told apart")
    func saleAndPointsBatches() async throws {
        let sku = try await newSku(stock: 10)
        let (first, second) = ("SB\(sku)-1", "SB\(sku)-2")
        #expect(try await lockStock(orderSn: first, sku: sku, count: 2).status == .ok)
        #expect(try await lockStock(orderSn: second, sku: sku, count: 3).status == .ok)
        let warehouse = Warehouse(postgres: Databases.wms, logger: Logger(label: "test"))
        let sales = [first, second, first, "", "SB\(sku)-none"].map { delivery(Messaging.stockMinus, #"{"orderSn":"\#($0)"}"#, orderSn: $0) }
        for round in 1...2 {
            let outcomes = try await warehouse.stocksMinus(sales)
            #expect(Array(outcomes.prefix(3)) == [.ack, .ack, .ack], "round \(round): \(outcomes)")
            #expect(outcomes[3] == .deadLetter(reason: "malformed stock.minus payload"))
            if case .retry = outcomes[4] {} else { Issue.record("a sale without a lock is retried: \(outcomes[4])") }
            #expect(try await SkuState.of(sku) == SkuState(stock: 5, locked: 0, sales: 5), "round \(round)")
        }

        let (member, other) = (newMember(), newMember())
        let credits = [("P\(sku)-1", member, 20, 30), ("P\(sku)-2", member, 5, 7), ("P\(sku)-3", other, 1, 1), ("P\(sku)-1", member, 20, 30)].map {
            delivery(Messaging.boundPlus, #"{"orderSn":"\#($0.0)","userId":\#($0.1),"integration":\#($0.2),"growth":\#($0.3)}"#, orderSn: $0.0)
        } + [delivery(Messaging.boundPlus, #"{"orderSn":"x","userId":0}"#, orderSn: "x")]
        let ledger = PointsLedger(postgres: Databases.ums)
        for round in 1...2 {
            let outcomes = try await ledger.boundsPlus(credits)
            #expect(Array(outcomes.prefix(4)) == [.ack, .ack, .ack, .ack], "round \(round)")
            #expect(outcomes[4] == .deadLetter(reason: "malformed bound.plus payload"))
            #expect(try await points(member) == (25, 37), "round \(round)")
            #expect(try await points(other) == (1, 1), "round \(round)")
        }
    }

    @Test("a points batch holding a credit that can never be written (a member's total past bigint) credits the others; that one alone is retried")
    func pointsBatchWithPoison() async throws {
        let (overflowing, member) = (newMember(), newMember())
        let tag = String(Int64.random(in: 1_000_000...9_999_999))
        let credits = [("PX\(tag)-1", overflowing, Int64.max), ("PX\(tag)-2", overflowing, Int64.max), ("PY\(tag)", member, 7)].map {
            delivery(Messaging.boundPlus, #"{"orderSn":"\#($0.0)","userId":\#($0.1),"integration":\#($0.2),"growth":1}"#, orderSn: $0.0)
        }
        let outcomes = try await PointsLedger(postgres: Databases.ums).boundsPlus(credits)
        #expect(outcomes[0] == .ack && outcomes[2] == .ack, "\(outcomes)")
        if case .retry = outcomes[1] {} else { Issue.record("the credit past bigint is retried alone: \(outcomes[1])") }
        #expect(try await points(member) == (7, 1))
        #expect(try await points(overflowing) == (Int64.max, 1))
    }

    @Test("50 concurrent lock requests for 10 units lock exactly 10")
    func noOversell() async throws {
        let sku = try await newSku(stock: 10)
        let results = try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<50 {
                group.addTask { Int(try await lockStock(orderSn: "LOCK-\(sku)-\(i)", sku: sku, count: 1).status.code) }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(results.filter { $0 == 200 }.count == 10)
        #expect(results.filter { $0 == 409 }.count == 40)
        #expect(try await SkuState.of(sku) == SkuState(stock: 10, locked: 10, sales: 0))
        #expect(try await Databases.count("SELECT coalesce(sum(count), 0) FROM wms_stock_lock WHERE sku_id = \(sku)", in: Databases.wms) == 10)
    }

    @Test("a lock is all-or-nothing across skus, and locking the same order twice locks once")
    func allOrNothing() async throws {
        let plenty = try await newSku(stock: 10), scarce = try await newSku(stock: 1)
        let both = #"{"orderSn":"AON-\#(plenty)","items":[{"skuId":\#(plenty),"count":3},{"skuId":\#(scarce),"count":2}]}"#
        #expect(try await wmsCall("/wms/lock", both).status == .conflict)
        #expect(try await SkuState.of(plenty).locked == 0)
        #expect(try await lockStock(orderSn: "TWICE-\(plenty)", sku: plenty, count: 3).status == .ok)
        #expect(try await lockStock(orderSn: "TWICE-\(plenty)", sku: plenty, count: 3).status == .ok)
        #expect(try await SkuState.of(plenty).locked == 3)
        #expect(try await wmsCall("/wms/lock", "{nope").status == .badRequest)
    }

    @Test("an oversized body is refused with 413 and nothing is locked")
    func oversizedBody() async throws {
        let sku = try await newSku(stock: 10)
        let padding = String(repeating: " ", count: 70_000)
        let body = #"{"orderSn":"BIG-\#(sku)","items":[{"skuId":\#(sku),"count":1}]}"# + padding
        #expect(try await wmsCall("/wms/lock", body).status == .payloadTooLarge)
        #expect(try await SkuState.of(sku).locked == 0)
    }

    @Test("a poison message goes to the dead-letter queue with its reason, and an operator can list it")
    func poisonToDLQ() async throws {
        let id = "poison-\(UUID().uuidString)"
        try await testPublisher.publish(AMQPMessage(exchange: Messaging.exchange, routingKey: Messaging.boundPlus.routingKey, body: Array("not json".utf8), messageID: id))
        let listed = try await eventually {
            let reply = try await HTTP.get(
                TestCluster.omsInternal + "/oms/admin/dlq/BOUND-PLUS-QUEUE.dlq?limit=500", headers: [("X-Admin-Token", TestCluster.adminToken)])
            return reply.body.contains(id) && reply.body.contains("malformed bound.plus payload")
        }
        #expect(listed)
        #expect(try await HTTP.get(TestCluster.omsInternal + "/oms/admin/dlq").status == .unauthorized)
        #expect(try await HTTP.get(TestCluster.omsInternal + "/oms/admin/dlq", headers: [("X-Admin-Token", "not-" + TestCluster.adminToken)]).status == .forbidden)
        #expect(try await HTTP.get(TestCluster.oms + "/oms/admin/dlq", headers: [("X-Admin-Token", TestCluster.adminToken)]).status == .notFound)
    }
}
