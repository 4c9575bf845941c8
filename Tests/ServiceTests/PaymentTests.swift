import Alipay
import AlipaySimulator
import Contracts
import Foundation
import NIOHTTP1
import Postgres
import Signing
import Testing

/// Fetches the page-pay form for `orderSn` as `buyer` and returns its fields.
func pagePayForm(orderSn: String, buyer: Int64 = 1001) async throws -> (HTTP.Reply, [String: String]) {
    let token = try TestKeys.jwtSigner.token(userID: buyer)
    let reply = try await HTTP.get(TestCluster.payment + "/alipay.html?orderToken=\(orderSn)", headers: [("Cookie", "GMALL-TOKEN=\(token)")])
    var fields: [String: String] = [:]
    let pattern = try NSRegularExpression(pattern: #"<input type="hidden" name="([^"]*)" value="([^"]*)">"#)
    for m in pattern.matches(in: reply.body, range: NSRange(reply.body.startIndex..., in: reply.body)) {
        let name = String(reply.body[Range(m.range(at: 1), in: reply.body)!])
        fields[name] = htmlUnescape(String(reply.body[Range(m.range(at: 2), in: reply.body)!]))
    }
    return (reply, fields)
}

/// `buyer`'s login header.
func bearer(_ buyer: Int64) throws -> [(String, String)] {
    [("Authorization", "Bearer \(try TestKeys.jwtSigner.token(userID: buyer))")]
}

func htmlUnescape(_ s: String) -> String {
    var out = s
    for (entity, char) in [("&quot;", "\""), ("&#39;", "'"), ("&lt;", "<"), ("&gt;", ">"), ("&#x2F;", "/"), ("&#x3D;", "="), ("&#x60;", "`"), ("&amp;", "&")] {
        out = out.replacingOccurrences(of: entity, with: char)
    }
    return out
}

/// A signed TRADE_SUCCESS notify for a payment, as Alipay would send it.
func notifyPairs(orderSn: String, amount: String = "1999.90", status: String = "TRADE_SUCCESS", notifyID: String = UUID().uuidString) throws -> [(String, String)] {
    try TestKeys.alipaySigner.notify(
        outTradeNo: orderSn, tradeNo: "2026" + orderSn.filter(\.isNumber), totalAmount: amount, subject: "谷粒商城 订单 \(orderSn)",
        tradeStatus: status, passback: "paymentId%3D1", notifyID: notifyID)
}

func postNotify(_ body: String, contentType: String = "application/x-www-form-urlencoded; charset=utf-8") async throws -> String {
    try await HTTP.post(TestCluster.payment + "/pay/success", form: body, contentType: contentType).body
}

/// What the payment tables hold for one order.
struct PaymentState: Equatable {
    let status: Int?
    let notifications: Int
    let outbox: Int

    static func of(_ orderSn: String) async throws -> PaymentState {
        let status = try await Databases.payment.query("SELECT payment_status FROM payment_info WHERE out_trade_no = \(orderSn)").first
        return PaymentState(
            status: try status.map { try $0.decode("payment_status", as: Int.self) },
            notifications: try await Databases.count("SELECT count(*) FROM payment_notification WHERE out_trade_no = \(orderSn)"),
            outbox: try await Databases.count("SELECT count(*) FROM outbox WHERE message_id = \("order.pay:" + orderSn)"))
    }
}

@Suite("Payment: pay.html and the Alipay page-pay form")
struct PagePayTests {
    init() async throws { try await TestCluster.shared.start() }

    @Test("pay.html shows the buyer's own order's number, amount and items, HTML-escaped")
    func payPage() async throws {
        let orderSn = try await Databases.newOrder(member: 1001, price: "12.34", quantity: 3)
        let reply = try await HTTP.get(TestCluster.payment + "/pay.html?orderToken=\(orderSn)", headers: try bearer(1001))
        #expect(reply.status == .ok)
        #expect(reply.body.contains(orderSn))
        #expect(reply.body.contains("¥37.02"))
        #expect(reply.body.contains("测试 商品 &lt;b&gt;&amp;"))
    }

    @Test("pay.html for an unknown order is a 404 page")
    func unknownOrder() async throws {
        let reply = try await HTTP.get(TestCluster.payment + "/pay.html?orderToken=NO-SUCH-ORDER", headers: try bearer(1001))
        #expect(reply.status == .notFound)
        #expect(reply.body.contains("<html"))
    }

    @Test("the page-pay form is signed with the merchant key over Alipay's canonical content, for the order's real amount")
    func formVerifies() async throws {
        let orderSn = try await Databases.newOrder(price: "1999.90")
        let (reply, fields) = try await pagePayForm(orderSn: orderSn)
        #expect(reply.status == .ok)
        #expect(fields["method"] == "alipay.trade.page.pay")
        #expect(fields["app_id"] == TestCluster.appID)
        #expect(fields["charset"] == "utf-8" && fields["format"] == "JSON" && fields["sign_type"] == "RSA2" && fields["version"] == "1.0")
        #expect(fields["timestamp"]?.range(of: #"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$"#, options: .regularExpression) != nil)
        let merchant = try RSAPublicKey(text: TestKeys.merchantPublic)
        #expect(merchant.verifyRSA2(signature: fields["sign"] ?? "", content: AlipaySignContent.request(fields)))
        let bizContent = try #require(fields["biz_content"])
        let biz = try #require(try JSONSerialization.jsonObject(with: Data(bizContent.utf8)) as? [String: String])
        #expect(biz["out_trade_no"] == orderSn)
        #expect(biz["total_amount"] == "1999.90")
        #expect(biz["product_code"] == "FAST_INSTANT_TRADE_PAY")
        #expect(biz["passback_params"]?.hasPrefix("paymentId%3D") == true)
        #expect(biz["time_expire"] != nil)
    }

    @Test("without a login the form is 401; another buyer's order is 404; a paid order is refused")
    func ownership() async throws {
        let orderSn = try await Databases.newOrder(member: 1001)
        #expect(try await HTTP.get(TestCluster.payment + "/alipay.html?orderToken=\(orderSn)").status == .unauthorized)
        #expect(try await pagePayForm(orderSn: orderSn, buyer: 2002).0.status == .notFound)
        let forged = "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxMDAxIiwiZXhwIjo5OTk5OTk5OTk5fQ."
        #expect(try await HTTP.get(TestCluster.payment + "/alipay.html?orderToken=\(orderSn)", headers: [("Authorization", "Bearer \(forged)")]).status == .unauthorized)
        try await Databases.oms.query("UPDATE oms_order SET status = 4 WHERE order_sn = \(orderSn)")
        #expect(try await pagePayForm(orderSn: orderSn).0.status == .conflict)
    }

    @Test("ten concurrent clicks record exactly one payment row")
    func oneRowPerOrder() async throws {
        let orderSn = try await Databases.newOrder()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<10 {
                group.addTask {
                    let status = try await pagePayForm(orderSn: orderSn).0.status
                    #expect(status == .ok)
                }
            }
            try await group.waitForAll()
        }
        #expect(try await Databases.count("SELECT count(*) FROM payment_info WHERE out_trade_no = \(orderSn)") == 1)
    }
}

@Suite("Payment: Alipay's notify")
struct NotifyTests {
    init() async throws { try await TestCluster.shared.start() }

    @Test("a correct notify pays once and one order.pay reaches the broker; ten repeats change nothing more")
    func paysOnce() async throws {
        let tap = OrderPayTap()
        try await tap.open()
        let orderSn = try await Databases.newOrder()
        _ = try await pagePayForm(orderSn: orderSn)
        let body = FormBody.encode(try notifyPairs(orderSn: orderSn, notifyID: "N-\(orderSn)"))
        #expect(try await postNotify(body) == "success")
        let first = try await Databases.payment.query("SELECT callback_time, trade_no FROM payment_info WHERE out_trade_no = \(orderSn)").rows[0]
        #expect(try await PaymentState.of(orderSn) == PaymentState(status: 1, notifications: 1, outbox: 1))
        for _ in 0..<10 { #expect(try await postNotify(body) == "success") }
        // and a fresh notify (new notify_id) for the same paid trade
        #expect(try await postNotify(FormBody.encode(try notifyPairs(orderSn: orderSn))) == "success")
        let after = try await Databases.payment.query("SELECT callback_time, trade_no FROM payment_info WHERE out_trade_no = \(orderSn)").rows[0]
        #expect(try after.decode("callback_time", as: Date.self) == first.decode("callback_time", as: Date.self))
        #expect(try await PaymentState.of(orderSn) == PaymentState(status: 1, notifications: 2, outbox: 1))
        let sent = try await eventually { try await Databases.count("SELECT count(*) FROM outbox WHERE message_id = \("order.pay:" + orderSn) AND sent_at IS NOT NULL") == 1 }
        #expect(sent)
        try await Task.sleep(nanoseconds: 500_000_000)
        let messages = try await tap.drain(orderSn: orderSn)
        #expect(messages.count == 1)
        #expect(messages.first?.messageID == "order.pay:\(orderSn)")
        await tap.close()
    }

    @Test("WAIT_BUYER_PAY and TRADE_CLOSED are acknowledged with success and only recorded")
    func recordOnlyStatuses() async throws {
        let orderSn = try await Databases.newOrder()
        _ = try await pagePayForm(orderSn: orderSn)
        for status in ["WAIT_BUYER_PAY", "TRADE_CLOSED"] {
            #expect(try await postNotify(FormBody.encode(try notifyPairs(orderSn: orderSn, status: status))) == "success")
        }
        #expect(try await PaymentState.of(orderSn) == PaymentState(status: 0, notifications: 2, outbox: 0))
    }

    @Test("a refund notify (TRADE_SUCCESS with refund_fee) is not a second payment")
    func refundIsNotPayment() async throws {
        let orderSn = try await Databases.newOrder()
        _ = try await pagePayForm(orderSn: orderSn)
        var pairs = try notifyPairs(orderSn: orderSn).filter { $0.0 != "sign" }
        pairs.append(("refund_fee", "10.00"))
        pairs.append(("sign", try TestKeys.alipaySigner.alipayKey.signRSA2(AlipaySignContent.notification(pairs))))
        #expect(try await postNotify(FormBody.encode(pairs)) == "success")
        #expect(try await PaymentState.of(orderSn) == PaymentState(status: 0, notifications: 1, outbox: 0))
    }

    /// Every way a notify can be forged or damaged; each must be answered `failure` and write nothing.
    static func forgeries(orderSn: String, otherOrderSn: String) throws -> [(String, String, String)] {
        let good = try notifyPairs(orderSn: orderSn)
        let goodBody = FormBody.encode(good)
        func replacing(_ key: String, _ value: String, resign: Bool = false) throws -> String {
            var pairs = good.map { $0.0 == key ? ($0.0, value) : $0 }
            if resign {
                pairs = pairs.filter { $0.0 != "sign" }
                pairs.append(("sign", try TestKeys.alipaySigner.alipayKey.signRSA2(AlipaySignContent.notification(pairs))))
            }
            return FormBody.encode(pairs)
        }
        let sign = good.first { $0.0 == "sign" }!.1
        var flipped = Array(Data(base64Encoded: sign)!)
        flipped[10] ^= 0x01
        let merchantSigned: String = try {
            var pairs = good.filter { $0.0 != "sign" }
            pairs.append(("sign", try RSAPrivateKey(text: TestKeys.merchantPrivate).signRSA2(AlipaySignContent.notification(pairs))))
            return FormBody.encode(pairs)
        }()
        return [
            ("bit-flipped sign", try replacing("sign", Data(flipped).base64EncodedString()), "application/x-www-form-urlencoded"),
            ("empty sign", try replacing("sign", ""), "application/x-www-form-urlencoded"),
            ("missing sign", FormBody.encode(good.filter { $0.0 != "sign" }), "application/x-www-form-urlencoded"),
            ("sign not base64", try replacing("sign", "!!!"), "application/x-www-form-urlencoded"),
            ("signed by the merchant key", merchantSigned, "application/x-www-form-urlencoded"),
            ("changed amount", try replacing("total_amount", "0.01"), "application/x-www-form-urlencoded"),
            ("changed amount, re-signed by Alipay's key", try replacing("total_amount", "0.01", resign: true), "application/x-www-form-urlencoded"),
            ("amount with more digits, re-signed", try replacing("total_amount", "1999.901", resign: true), "application/x-www-form-urlencoded"),
            ("amount not a number, re-signed", try replacing("total_amount", "1e3", resign: true), "application/x-www-form-urlencoded"),
            ("other app_id", try replacing("app_id", "2021000000000000"), "application/x-www-form-urlencoded"),
            ("other app_id, re-signed", try replacing("app_id", "2021000000000000", resign: true), "application/x-www-form-urlencoded"),
            ("other out_trade_no", try replacing("out_trade_no", otherOrderSn), "application/x-www-form-urlencoded"),
            ("unknown out_trade_no, re-signed", try replacing("out_trade_no", "NO-SUCH-TRADE", resign: true), "application/x-www-form-urlencoded"),
            ("changed trade_status", try replacing("trade_status", "TRADE_FINISHED"), "application/x-www-form-urlencoded"),
            ("unknown trade_status, re-signed", try replacing("trade_status", "TRADE_PENDING", resign: true), "application/x-www-form-urlencoded"),
            ("sign_type swapped to RSA", try replacing("sign_type", "RSA"), "application/x-www-form-urlencoded"),
            ("sign_type missing", FormBody.encode(good.filter { $0.0 != "sign_type" }), "application/x-www-form-urlencoded"),
            ("added parameter", goodBody + "&extra=1", "application/x-www-form-urlencoded"),
            ("parameter repeated", goodBody + "&total_amount=1999.90", "application/x-www-form-urlencoded"),
            ("parameter removed", FormBody.encode(good.filter { $0.0 != "buyer_id" }), "application/x-www-form-urlencoded"),
            ("values swapped between two keys", FormBody.encode(good.map {
                $0.0 == "gmt_create" ? ($0.0, good.first { $0.0 == "gmt_payment" }!.1)
                    : $0.0 == "gmt_payment" ? ($0.0, good.first { $0.0 == "gmt_create" }!.1) : $0
            }), "application/x-www-form-urlencoded"),
            ("changed buyer_id", try replacing("buyer_id", "2088722003900001"), "application/x-www-form-urlencoded"),
            ("wrong charset", try replacing("charset", "gbk"), "application/x-www-form-urlencoded"),
            ("wrong charset, re-signed", try replacing("charset", "gbk", resign: true), "application/x-www-form-urlencoded"),
            ("truncated body", String(goodBody.prefix(goodBody.count / 2)), "application/x-www-form-urlencoded"),
            ("truncated percent escape", String(goodBody.prefix(goodBody.count - 1)) + "%", "application/x-www-form-urlencoded"),
            ("invalid UTF-8", goodBody.replacingOccurrences(of: "subject=", with: "subject=%FF%FE"), "application/x-www-form-urlencoded"),
            ("empty body", "", "application/x-www-form-urlencoded"),
            ("JSON instead of a form", #"{"out_trade_no":"\#(orderSn)","trade_status":"TRADE_SUCCESS"}"#, "application/json"),
            ("oversized body", goodBody + "&pad=" + String(repeating: "A", count: 70_000), "application/x-www-form-urlencoded"),
        ]
    }

    @Test("29 forged or damaged notifies are all refused with failure, and nothing is written")
    func forgeriesRefused() async throws {
        let orderSn = try await Databases.newOrder()
        let other = try await Databases.newOrder()
        _ = try await pagePayForm(orderSn: orderSn)
        _ = try await pagePayForm(orderSn: other)
        let cases = try Self.forgeries(orderSn: orderSn, otherOrderSn: other)
        #expect(cases.count >= 20)
        for (name, body, contentType) in cases {
            let answer = try await HTTP.post(TestCluster.payment + "/pay/success", form: body, contentType: contentType)
            #expect(answer.body == "failure" || answer.status == .payloadTooLarge, "\(name): \(answer.status) \(answer.body)")
            #expect(answer.body != "success", "\(name)")
        }
        #expect(try await PaymentState.of(orderSn) == PaymentState(status: 0, notifications: 0, outbox: 0))
        #expect(try await PaymentState.of(other) == PaymentState(status: 0, notifications: 0, outbox: 0))
        // the genuine notify still works afterwards
        #expect(try await postNotify(FormBody.encode(try notifyPairs(orderSn: orderSn))) == "success")
        #expect(try await PaymentState.of(orderSn).status == 1)
    }
}

@Suite("Payment: through the Alipay simulator")
struct SimulatorFlowTests {
    init() async throws { try await TestCluster.shared.start() }

    /// Submits the page-pay form to the simulator's gateway and pays; returns the return URL.
    func pay(orderSn: String, dropNotify: Bool) async throws -> String {
        let (_, fields) = try await pagePayForm(orderSn: orderSn)
        let cashier = try await HTTP.post(
            TestCluster.simulator + "/alipay-sim/gateway.do?charset=utf-8", form: FormBody.encode(fields.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }))
        #expect(cashier.status == .ok, "\(cashier.body)")
        let paid = try await HTTP.post(TestCluster.simulator + "/alipay-sim/pay", form: "out_trade_no=\(orderSn)" + (dropNotify ? "&drop_notify=1" : ""))
        #expect(paid.status == .found)
        return try #require(paid.header("Location"))
    }

    @Test("form → simulator → notify → paid, and the signed return shows success")
    func endToEnd() async throws {
        let orderSn = try await Databases.newOrder(price: "0.01")
        let returnURL = try await pay(orderSn: orderSn, dropNotify: false)
        let paid = try await eventually { try await PaymentState.of(orderSn).status == 1 }
        #expect(paid)
        let page = try await HTTP.get(returnURL)
        #expect(page.status == .ok)
        #expect(page.body.contains("支付成功") && page.body.contains("¥0.01"))
        // a return with a changed amount does not verify
        let tampered = returnURL.replacingOccurrences(of: "total_amount=0.01", with: "total_amount=100.00")
        #expect(try await HTTP.get(tampered).status == .badRequest)
    }

    @Test("a notify lost on purpose is settled by the active query, with one order.pay, even behind 150 older abandoned payments")
    func lostNotifySettledByQuery() async throws {
        // Abandoned payments from an hour ago, never paid: one sweep's worth and more.
        try await Databases.payment.query("""
            INSERT INTO payment_info (out_trade_no, order_id, user_id, subject, total_amount, create_time)
            SELECT 'abandoned-' || md5(random()::text), 0, 1, 'abandoned', 1.00, now() - interval '1 hour'
            FROM generate_series(1, 150)
            """)
        let orderSn = try await Databases.newOrder(price: "88.80")
        let returnURL = try await pay(orderSn: orderSn, dropNotify: true)
        let pending = try await HTTP.get(returnURL)
        #expect(pending.body.contains("支付确认中") || pending.body.contains("支付成功"))
        let paid = try await eventually(seconds: 20) { try await PaymentState.of(orderSn).status == 1 }
        #expect(paid)
        let state = try await PaymentState.of(orderSn)
        #expect(state.outbox == 1)
        let source = try await Databases.payment.query("SELECT source FROM payment_notification WHERE out_trade_no = \(orderSn)").rows
        #expect(try source.map { try $0.decode("source", as: String.self) } == ["query"])
    }
}

