import Alipay
import AlipaySimulator
import Contracts
import Foundation
import PaymentService
import Postgres
import ServiceKit
import Testing

/// What the simulator knows of a trade, as `/alipay-sim/trade` shows it.
struct SimulatorTrade: Decodable {
    struct Refund: Decodable {
        let outRequestNo: String
        let amount: String
        let notifyDelivered: Bool
    }
    let status: String
    let refundedAmount: String
    let refunds: [Refund]
    let expiresAt: Date?

    static func of(_ orderSn: String) async throws -> SimulatorTrade? {
        let reply = try await HTTP.get(TestCluster.simulator + "/alipay-sim/trade?out_trade_no=\(orderSn)")
        guard reply.status == .ok else { return nil }
        return try ShopJSON.decoder.decode(SimulatorTrade.self, from: Data(reply.body.utf8))
    }
}

/// A row of the refund ledger.
struct RefundRow: Equatable {
    let state: Int
    let amount: String
    let lastError: String?
    let confirmedBy: String?
    let attempts: Int

    static func of(_ orderSn: String) async throws -> [RefundRow] {
        try await Databases.payment.query("""
            SELECT state, amount::text AS amount, last_error, confirmed_by, attempts FROM payment_refund WHERE out_trade_no = \(orderSn)
            """).rows.map {
            RefundRow(
                state: try $0.decode("state"), amount: try $0.decode("amount"), lastError: try $0.decodeIfPresent("last_error"),
                confirmedBy: try $0.decodeIfPresent("confirmed_by"), attempts: try $0.decode("attempts"))
        }
    }
}

/// Opens the Alipay cashier for `orderSn` (the form posted to the simulator's gateway): the trade exists at Alipay.
func openCashier(orderSn: String, buyer: Int64) async throws {
    let (form, fields) = try await pagePayForm(orderSn: orderSn, buyer: buyer)
    #expect(form.status == .ok, "\(form.body)")
    let cashier = try await HTTP.post(
        TestCluster.simulator + "/alipay-sim/gateway.do?charset=utf-8", form: FormBody.encode(fields.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }))
    #expect(cashier.status == .ok, "\(cashier.body)")
}

/// The buyer presses "pay" at the simulator's cashier.
func payAtCashier(orderSn: String, dropNotify: Bool = false) async throws -> HTTP.Reply {
    try await HTTP.post(TestCluster.simulator + "/alipay-sim/pay", form: "out_trade_no=\(orderSn)" + (dropNotify ? "&drop_notify=1" : ""))
}

/// An operator's refund on oms's internal listener.
func operatorRefund(_ orderSn: String, token: String? = TestCluster.adminToken) async throws -> HTTP.Reply {
    var headers: [(String, String)] = []
    if let token { headers.append(("X-Admin-Token", token)) }
    return try await HTTP.send(TestCluster.omsInternal + "/oms/admin/orders/\(orderSn)/refund", method: .POST, headers: headers, body: nil)
}

/// The checkout API on oms's internal listener, as the checkout service calls it.
func checkout(_ body: CheckoutOrderRequest, caller: String? = "checkout") async throws -> HTTP.Reply {
    var headers = [("Content-Type", "application/json")]
    if let caller { headers.append((ServiceToken.header, TestCluster.serviceToken(caller, to: "oms"))) }
    return try await HTTP.send(
        TestCluster.omsInternal + "/oms/orders", method: .POST, headers: headers, body: String(decoding: try ShopJSON.encoder.encode(body), as: UTF8.self))
}

func lockCount(_ orderSn: String) async throws -> Int {
    try await Databases.count("SELECT count(*) FROM wms_stock_lock WHERE order_sn = \(orderSn)", in: Databases.wms)
}

// Serialized: the simulator's injected failures (`/alipay-sim/admin/fail`) hit the next calls of a
// method whoever makes them, so no other refund may run beside the test that injects them.
@Suite("Payment lifecycle: trades close with their order, money for a closed order goes back by itself, operator refunds, checkout", .serialized)
struct PaymentLifecycleTests {
    init() async throws { try await TestCluster.shared.start() }

    /// An unpaid order of a fresh member and sku, its stock locked as checkout would.
    func lockedOrder(price: String = "10.00", quantity: Int = 2) async throws -> (orderSn: String, sku: Int64, member: Int64) {
        let sku = try await newSku(stock: 10)
        let member = newMember()
        let orderSn = try await Databases.newOrder(member: member, price: price, quantity: quantity, sku: sku, integration: 20, growth: 30)
        #expect(try await lockStock(orderSn: orderSn, sku: sku, count: quantity).status == .ok)
        return (orderSn, sku, member)
    }

    /// A locked order paid through the simulator's cashier, its stock sold.
    func paidOrder() async throws -> (orderSn: String, sku: Int64, member: Int64) {
        let (orderSn, sku, member) = try await lockedOrder()
        try await openCashier(orderSn: orderSn, buyer: member)
        #expect(try await payAtCashier(orderSn: orderSn).status == .found)
        let paid = try await eventually { try await SkuState.of(sku).sales == 2 }
        #expect(paid)
        return (orderSn, sku, member)
    }

    @Test("the trade expires with its order: time_expire is the order's deadline, and an order about to close is not sent to Alipay")
    func tradeExpiresWithOrder() async throws {
        let deadline = Date().addingTimeInterval(600)
        let orderSn = try await Databases.newOrder(price: "1.00", payDeadline: deadline)
        let (_, fields) = try await pagePayForm(orderSn: orderSn)
        let bizText = try #require(fields["biz_content"])
        let biz = try #require(try JSONSerialization.jsonObject(with: Data(bizText.utf8)) as? [String: String])
        #expect(biz["time_expire"] == AlipayTime.format(deadline))
        let closing = try await Databases.newOrder(price: "1.00", payDeadline: Date().addingTimeInterval(20))
        let (reply, closingFields) = try await pagePayForm(orderSn: closing)
        #expect(reply.status == .conflict)
        #expect(reply.body.contains("订单即将关闭"))
        #expect(closingFields.isEmpty)
        #expect(try await PaymentState.of(closing).status == nil)
    }

    @Test("an order closed before payment: its trade is closed at Alipay and the buyer can no longer pay")
    func closedBeforePayment() async throws {
        let (orderSn, sku, member) = try await lockedOrder()
        try await openCashier(orderSn: orderSn, buyer: member)
        try await publish(OrderRef(orderSn: orderSn), route: Messaging.orderClose)
        let closed = try await eventually { try await SimulatorTrade.of(orderSn)?.status == "TRADE_CLOSED" }
        #expect(closed)
        let marked = try await eventually { try await PaymentState.of(orderSn).status == PaymentStatus.closed.rawValue }
        #expect(marked)
        let refused = try await payAtCashier(orderSn: orderSn)
        #expect(refused.status == .conflict)
        #expect(try await SimulatorTrade.of(orderSn)?.status == "TRADE_CLOSED")
        #expect(try await orderStatus(orderSn) == OrderStatus.closed.rawValue)
        let released = try await eventually { try await SkuState.of(sku) == SkuState(stock: 10, locked: 0, sales: 0) }
        #expect(released)
        // A second close (a redelivered timer) changes nothing and stays acknowledged.
        try await publish(OrderRef(orderSn: orderSn), route: Messaging.tradeClose)
        try await Task.sleep(for: .milliseconds(500))
        #expect(try await PaymentState.of(orderSn).status == PaymentStatus.closed.rawValue)
    }

    @Test("an operator closes an unpaid order now, as its timer would; a paid order is not closed (409)")
    func operatorClose() async throws {
        let (orderSn, sku, member) = try await lockedOrder()
        try await openCashier(orderSn: orderSn, buyer: member)
        func close(_ sn: String) async throws -> HTTP.Reply {
            try await HTTP.send(
                TestCluster.omsInternal + "/oms/admin/orders/\(sn)/close", method: .POST, headers: [("X-Admin-Token", TestCluster.adminToken)], body: nil)
        }
        #expect(try await close(orderSn).status == .ok)
        #expect(try await close(orderSn).status == .ok)
        let closed = try await eventually { try await SimulatorTrade.of(orderSn)?.status == "TRADE_CLOSED" }
        #expect(closed)
        let released = try await eventually { try await SkuState.of(sku).locked == 0 }
        #expect(released)
        let (paidSn, paidSku, paidMember) = try await lockedOrder()
        try await openCashier(orderSn: paidSn, buyer: paidMember)
        #expect(try await payAtCashier(orderSn: paidSn).status == .found)
        let paid = try await eventually { try await orderStatus(paidSn) == OrderStatus.paid.rawValue }
        #expect(paid)
        #expect(try await close(paidSn).status == .conflict)
        #expect(try await close("N0000000000000000001").status == .notFound)
        #expect(try await orderStatus(paidSn) == OrderStatus.paid.rawValue)
        _ = paidSku
    }

    @Test("a close with no cashier ever opened touches nothing at Alipay")
    func closeWithoutCashier() async throws {
        let (orderSn, _, _) = try await lockedOrder()
        try await publish(OrderRef(orderSn: orderSn), route: Messaging.orderClose)
        let closed = try await eventually { try await orderStatus(orderSn) == OrderStatus.closed.rawValue }
        #expect(closed)
        try await Task.sleep(for: .milliseconds(500))
        #expect(try await SimulatorTrade.of(orderSn) == nil)
        #expect(try await PaymentState.of(orderSn).status == nil)
    }

    @Test("money that arrives after the order closed goes back once by itself: ledger row confirmed, points and stock untouched")
    func paidAfterCloseRefunded() async throws {
        let (orderSn, sku, member) = try await lockedOrder()
        try await openCashier(orderSn: orderSn, buyer: member)
        // The buyer pays; Alipay's notify is late (dropped here), and the order's timer fires first.
        #expect(try await payAtCashier(orderSn: orderSn, dropNotify: true).status == .found)
        try await publish(OrderRef(orderSn: orderSn), route: Messaging.orderClose)
        let confirmed = try await eventually(seconds: 20) { try await RefundRow.of(orderSn).first?.state == RefundState.confirmed.rawValue }
        #expect(confirmed)
        // The late notify arrives after all: recorded, still one refund.
        #expect(try await postNotify(FormBody.encode(try notifyPairs(orderSn: orderSn, amount: "20.00"))) == "success")
        try await Task.sleep(for: .milliseconds(500))
        let rows = try await RefundRow.of(orderSn)
        #expect(rows.count == 1)
        #expect(rows.first?.amount == "20.00")
        let trade = try #require(try await SimulatorTrade.of(orderSn))
        #expect(trade.refunds.count == 1 && trade.refundedAmount == "20.00" && trade.status == "TRADE_CLOSED")
        #expect(try await orderStatus(orderSn) == OrderStatus.closed.rawValue)
        #expect(try await SkuState.of(sku) == SkuState(stock: 10, locked: 0, sales: 0))
        #expect(try await points(member) == (0, 0))
    }

    @Test("an operator refund of a paid order: refunded once, points back, stock back; a second request is a no-op answering the first")
    func operatorRefundOnce() async throws {
        let (orderSn, sku, member) = try await lockedOrder()
        try await openCashier(orderSn: orderSn, buyer: member)
        #expect(try await payAtCashier(orderSn: orderSn).status == .found)
        let settled = try await eventually {
            let sold = try await SkuState.of(sku).sales == 2
            let credited = try await points(member) == (20, 30)
            return sold && credited
        }
        #expect(settled)

        let first = try await operatorRefund(orderSn)
        #expect(first.status == .ok, "\(first.body)")
        let answer = try ShopJSON.decoder.decode(ResponseVo<OrderRefund>.self, from: Data(first.body.utf8)).data
        #expect(answer?.status == .refunded && answer?.amount == Money("20.00"))
        let done = try await eventually(seconds: 20) {
            let confirmed = try await RefundRow.of(orderSn).first?.state == RefundState.confirmed.rawValue
            let stockBack = try await SkuState.of(sku) == SkuState(stock: 10, locked: 0, sales: 0)
            let pointsBack = try await points(member) == (0, 0)
            return confirmed && stockBack && pointsBack
        }
        #expect(done)
        #expect(try await orderStatus(orderSn) == OrderStatus.refunded.rawValue)

        let second = try await operatorRefund(orderSn)
        #expect(second.status == .ok)
        #expect(try ShopJSON.decoder.decode(ResponseVo<OrderRefund>.self, from: Data(second.body.utf8)).data == answer)
        try await Task.sleep(for: .milliseconds(800))
        #expect(try await RefundRow.of(orderSn).count == 1)
        let trade = try #require(try await SimulatorTrade.of(orderSn))
        #expect(trade.refunds.count == 1 && trade.refundedAmount == "20.00")
        #expect(try await SkuState.of(sku) == SkuState(stock: 10, locked: 0, sales: 0))
        #expect(try await points(member) == (0, 0))
        let refundNotified = try await eventually { try await SimulatorTrade.of(orderSn)?.refunds.first?.notifyDelivered == true }
        #expect(refundNotified)
        // The refund notify was recorded and never settled anything: the payment stays paid, one order.pay.
        #expect(try await PaymentState.of(orderSn).status == PaymentStatus.paid.rawValue)
        #expect(try await PaymentState.of(orderSn).outbox == 1)
    }

    @Test("refunds are refused for an order not paid (409), unknown (404), or without the admin token")
    func refundRefusals() async throws {
        let (unpaid, _, _) = try await lockedOrder()
        #expect(try await operatorRefund(unpaid).status == .conflict)
        #expect(try await operatorRefund("N0000000000000000000").status == .notFound)
        #expect(try await operatorRefund(unpaid, token: nil).status.code >= 401)
        #expect(try await operatorRefund(unpaid, token: "wrong").status.code >= 401)
        #expect(try await orderStatus(unpaid) == OrderStatus.unpaid.rawValue)
    }

    @Test("a refund above the paid amount is refused by Alipay and reported on its ledger row, nothing refunded")
    func refundAbovePaidRefused() async throws {
        let (orderSn, _, _) = try await paidOrder()
        try await publish(RefundRequest(orderSn: orderSn, amount: Money("20.01")!, reason: .operatorRefund), route: Messaging.paymentRefund)
        let refused = try await eventually(seconds: 20) { try await RefundRow.of(orderSn).first?.state == RefundState.refused.rawValue }
        #expect(refused)
        #expect(try await RefundRow.of(orderSn).first?.lastError?.contains("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL") == true)
        #expect(try await SimulatorTrade.of(orderSn)?.refundedAmount == "0.00")
    }

    @Test("Alipay busy: the refund is tried again after a wait until Alipay confirms it")
    func refundRetriedUntilConfirmed() async throws {
        let (orderSn, _, _) = try await paidOrder()
        let fail = try await HTTP.post(TestCluster.simulator + "/alipay-sim/admin/fail", form: "method=alipay.trade.refund&times=2")
        #expect(fail.status == .ok)
        #expect(try await operatorRefund(orderSn).status == .ok)
        let confirmed = try await eventually(seconds: 20) { try await RefundRow.of(orderSn).first?.state == RefundState.confirmed.rawValue }
        #expect(confirmed)
        // two refused by the busy gateway, then the one Alipay accepted (the query or the refund notify confirms it)
        #expect(try await RefundRow.of(orderSn).first.map { $0.attempts >= 3 } == true)
        #expect(try await SimulatorTrade.of(orderSn)?.refunds.count == 1)
    }

    @Test("a refunded flash-sale order still counts as its win's lock: the session's reservation is released at the end")
    func refundedWinKeepsReservationReleasable() async throws {
        let sku = try await newSku(stock: 10)
        let key = "test-refund-\(UUID().uuidString.prefix(8))"
        #expect(try await wmsCall("/wms/reservations", #"{"key":"\#(key)","skuId":\#(sku),"count":3}"#, caller: "seckill").status == .ok)
        let orderSn = "T" + String(Int.random(in: 1_000_000_000...9_999_999_999))
        #expect(try await wmsCall("/wms/lock", #"{"orderSn":"\#(orderSn)","items":[{"skuId":\#(sku),"count":1}],"reservationKey":"\#(key)"}"#).status == .ok)
        try await publish(StockMinus(orderSn: orderSn), route: Messaging.stockMinus)
        let sold = try await eventually { try await SkuState.of(sku).sales == 1 }
        #expect(sold)
        try await publish(OrderRef(orderSn: orderSn), route: Messaging.stockReturn)
        let returned = try await eventually { try await SkuState.of(sku).sales == 0 }
        #expect(returned)
        let release = try await wmsCall("/wms/reservations/\(key)/release", #"{"wins":1}"#, caller: "seckill")
        #expect(release.status == .ok, "\(release.body)")
        #expect(try await SkuState.of(sku) == SkuState(stock: 10, locked: 0, sales: 0))
    }

    @Test("a refund notify for an unpaid payment settles nothing")
    func refundNotifyNeverSettles() async throws {
        let orderSn = try await Databases.newOrder(price: "5.00")
        _ = try await pagePayForm(orderSn: orderSn)
        var pairs = try notifyPairs(orderSn: orderSn, amount: "5.00", status: "TRADE_CLOSED").filter { $0.0 != "sign" }
        pairs += [("refund_fee", "5.00"), ("out_biz_no", "RF" + orderSn), ("gmt_refund", "2026-11-26 10:00:00.000")]
        pairs.append(("sign", try TestKeys.alipaySigner.alipayKey.signRSA2(AlipaySignContent.notification(pairs))))
        #expect(try await postNotify(FormBody.encode(pairs)) == "success")
        #expect(try await PaymentState.of(orderSn) == PaymentState(status: PaymentStatus.unpaid.rawValue, notifications: 1, outbox: 0))
        #expect(try await orderStatus(orderSn) == OrderStatus.unpaid.rawValue)
    }

    // MARK: checkout

    static func checkoutRequest(token: String, member: Int64, sku: Int64, quantity: Int, price: String = "12.34") -> CheckoutOrderRequest {
        let line = CheckoutLine(skuId: sku, skuName: "测试 耳机", price: Money(price)!, quantity: quantity)
        let total = Money(price)! * quantity
        return CheckoutOrderRequest(orderToken: token, memberId: member, items: [line], totalAmount: total, payAmount: total)
    }

    @Test("the checkout API twice with one token: one order, one lock, the same answer")
    func checkoutIdempotent() async throws {
        let sku = try await newSku(stock: 10)
        let member = newMember()
        let request = Self.checkoutRequest(token: "tok-\(UUID().uuidString.prefix(12))", member: member, sku: sku, quantity: 3)
        let first = try await checkout(request)
        #expect(first.status == .ok, "\(first.body)")
        let order = try #require(try ShopJSON.decoder.decode(ResponseVo<OrderEntity>.self, from: Data(first.body.utf8)).data)
        #expect(order.userId == member && order.status == .unpaid && order.payAmount == Money("37.02") && order.items.count == 1)
        #expect(order.payDeadline != nil)
        let second = try await checkout(request)
        #expect(second.status == .ok)
        #expect(try ShopJSON.decoder.decode(ResponseVo<OrderEntity>.self, from: Data(second.body.utf8)).data == order)
        #expect(try await Databases.count("SELECT count(*) FROM oms_order WHERE member_id = \(member)", in: Databases.oms) == 1)
        #expect(try await lockCount(order.orderSn) == 1)
        #expect(try await SkuState.of(sku) == SkuState(stock: 10, locked: 3, sales: 0))
        // The same token with another request is refused, and changes nothing.
        var other = request
        other.items[0].quantity = 4
        other.totalAmount = Money("49.36")!
        other.payAmount = other.totalAmount
        let reused = try await checkout(other)
        #expect(reused.status == .conflict && reused.body.contains("4093"))
        #expect(try await SkuState.of(sku) == SkuState(stock: 10, locked: 3, sales: 0))
    }

    @Test("checkout with too little stock: no order, no lock, and the token keeps that answer")
    func checkoutShortage() async throws {
        let sku = try await newSku(stock: 2)
        let member = newMember()
        let request = Self.checkoutRequest(token: "tok-\(UUID().uuidString.prefix(12))", member: member, sku: sku, quantity: 3)
        let reply = try await checkout(request)
        #expect(reply.status == .conflict, "\(reply.body)")
        #expect(try await Databases.count("SELECT count(*) FROM oms_order WHERE member_id = \(member)", in: Databases.oms) == 0)
        #expect(try await SkuState.of(sku) == SkuState(stock: 2, locked: 0, sales: 0))
        let number = try await Databases.oms.query("SELECT order_sn FROM oms_checkout WHERE order_token = \(request.orderToken)").rows[0].decode("order_sn", as: String.self)
        #expect(try await lockCount(number) == 0)
        #expect(try await checkout(request).status == .conflict)
    }

    @Test("checkout refuses wrong amounts (400), an unknown caller (403) and no credential (401)")
    func checkoutRefusals() async throws {
        let sku = try await newSku(stock: 10)
        var request = Self.checkoutRequest(token: "tok-\(UUID().uuidString.prefix(12))", member: newMember(), sku: sku, quantity: 1)
        request.totalAmount = Money("12.35")!
        request.payAmount = request.totalAmount
        #expect(try await checkout(request).status == .badRequest)
        #expect(try await checkout(Self.checkoutRequest(token: "tok-x", member: 1, sku: sku, quantity: 1), caller: "payment").status == .forbidden)
        #expect(try await checkout(Self.checkoutRequest(token: "tok-x", member: 1, sku: sku, quantity: 1), caller: nil).status == .unauthorized)
        #expect(try await SkuState.of(sku) == SkuState(stock: 10, locked: 0, sales: 0))
    }

    @Test("a checkout given up after its lock: the close timer releases the lock")
    func abandonedCheckoutReleased() async throws {
        let sku = try await newSku(stock: 5)
        let request = Self.checkoutRequest(token: "tok-\(UUID().uuidString.prefix(12))", member: newMember(), sku: sku, quantity: 2)
        // As if the first call died between its lock and its order: the row and the lock exist.
        let orderSn = "N20261126" + String(Int.random(in: 1_000_000_000...9_999_999_999))
        try await Databases.oms.query("""
            INSERT INTO oms_checkout (order_token, order_sn, member_id, request)
            VALUES (\(request.orderToken), \(orderSn), \(request.memberId), \(String(decoding: try ShopJSON.encoder.encode(request), as: UTF8.self)))
            """)
        #expect(try await lockStock(orderSn: orderSn, sku: sku, count: 2).status == .ok)
        try await publish(OrderRef(orderSn: orderSn), route: Messaging.orderClose)
        let released = try await eventually { try await SkuState.of(sku).locked == 0 }
        #expect(released)
        let reply = try await checkout(request)
        #expect(reply.status == .conflict && reply.body.contains("4094"), "\(reply.body)")
        #expect(try await SkuState.of(sku) == SkuState(stock: 5, locked: 0, sales: 0))
    }
}
