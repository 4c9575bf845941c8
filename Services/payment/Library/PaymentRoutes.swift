import Alipay
import Contracts
import Foundation
import Hummingbird
import Logging
import ServiceKit
import Signing

/// Flow 1's HTTP side: the channel page, the Alipay form, the notify and the return.
struct PaymentRoutes: Sendable {
    /// `gmall_notifies_total{result}`: paid, already_paid, recorded (statuses only recorded, refund
    /// notifies), refused_unverified (malformed or a bad signature), refused_settlement (not ours,
    /// unknown trade, another amount, an unknown status).
    static let notifies: [String: ShopCounter] = Dictionary(uniqueKeysWithValues: [
        "paid", "already_paid", "recorded", "refused_unverified", "refused_settlement",
    ].map { ($0, ShopMetrics.counter("gmall_notifies_total", "Alipay notifies handled, by result.", [("result", $0)])) })

    let store: any PaymentStore
    let rules: SettlementRules
    let gateway: AlipayGateway
    let orders: OrderClient
    let verifier: AlipayNotificationVerifier
    let pages: PaymentPages
    let relay: OutboxRelay
    let timeoutMinutes: Int
    let minPaySeconds: Int

    /// All public: the pages that show or start paying an order need the buyer's login; Alipay's
    /// notify and return carry Alipay's signature instead.
    func register(public router: Router<ShopRequestContext>, buyers: BuyerAuthenticator) {
        _ = Self.notifies  // the counters exist (at zero) from the start
        let buyer = router.group().add(middleware: BuyerAuthMiddleware(buyers))
        buyer.get("/pay.html", use: payPage)
        buyer.get("/alipay.html", use: alipayForm)
        router.post("/pay/success", use: notify)
        router.get("/pay/ok", use: returnPage)
    }

    func message(_ title: String, _ text: String, status: HTTPResponse.Status, refresh: Bool = false) -> Response {
        ShopJSON.html(pages.render("message", ["title": title, "text": text, "refresh": refresh]), status: status)
    }

    /// The buyer's own order named by `orderToken`; a missing order and another buyer's answer the
    /// same 404 page.
    func buyersOrder(_ request: Request, context: ShopRequestContext) async throws -> Result<OrderEntity, PageRefusal> {
        let buyer = try context.requireBuyer()
        guard let orderSn = request.uri.queryParameters.get("orderToken"), (try? Input.orderNumber(orderSn)) != nil else {
            return .failure(PageRefusal(page: message("参数错误", "orderToken must be an order number", status: .badRequest)))
        }
        guard let order = try await orders.order(orderSn), order.userId == buyer else {
            return .failure(PageRefusal(page: message("订单不存在", "order \(orderSn) not found", status: .notFound)))
        }
        return .success(order)
    }

    /// `GET /pay.html?orderToken=SN`: the choose-a-channel page, for the order's buyer only.
    @Sendable func payPage(_ request: Request, context: ShopRequestContext) async throws -> Response {
        let order: OrderEntity
        switch try await buyersOrder(request, context: context) {
        case .success(let found): order = found
        case .failure(let refusal): return refusal.page
        }
        return ShopJSON.html(pages.render("pay", PaymentPages.orderContext(order)))
    }

    /// `GET /alipay.html?orderToken=SN`: records the payment and answers the auto-submitting form.
    @Sendable func alipayForm(_ request: Request, context: ShopRequestContext) async throws -> Response {
        let order: OrderEntity
        switch try await buyersOrder(request, context: context) {
        case .success(let found): order = found
        case .failure(let refusal): return refusal.page
        }
        let orderSn = order.orderSn
        guard order.status == .unpaid else {
            return message("订单无法支付", "order \(orderSn) is not awaiting payment (status \(order.status.rawValue))", status: .conflict)
        }
        let expiresAt: Date
        switch PayWindow.decide(order: order, now: Date(), minimum: TimeInterval(minPaySeconds), fallbackMinutes: timeoutMinutes) {
        case .open(let at): expiresAt = at
        case .closingSoon(let deadline):
            return message(
                "订单即将关闭", "order \(orderSn) closes at \(AlipayTime.format(deadline)) (China time): too soon to start a payment",
                status: .conflict)
        }
        let payment = try await store.record(order: order, subject: "谷粒商城 订单 \(order.orderSn)")
        guard payment.status == .unpaid else {
            return message("订单无法支付", "order \(orderSn) is \(payment.status == .paid ? "already paid" : "closed")", status: .conflict)
        }
        let params = try gateway.pagePayParameters(payment: payment, expiresAt: expiresAt)
        let fields = params.sorted { $0.key < $1.key }.map { ["name": $0.key, "value": $0.value] }
        context.logger.info("payment.page_pay", metadata: ["payment.out_trade_no": "\(payment.outTradeNo)", "payment.amount": "\(payment.totalAmount.yuan)"])
        return ShopJSON.html(pages.render("alipay", ["gateway": gateway.gatewayURL, "fields": fields]))
    }

    /// `POST /pay/success`: Alipay's asynchronous notify. Answers `success` only after commit.
    @Sendable func notify(_ request: Request, context: ShopRequestContext) async throws -> Response {
        func answer(_ text: String) -> Response {
            Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: context.maxUploadSize)
        } catch {
            context.logger.warning("payment.notify.refused", metadata: ["reason": "body too large or unreadable"])
            return answer("failure")
        }
        let evidence: PaymentEvidence
        do {
            evidence = try verifier.evidence(from: try verifier.verify(formBody: Array(body.readableBytesView)))
        } catch {
            Self.notifies["refused_unverified"]?.increment()
            context.logger.warning("payment.notify.refused", metadata: ["reason": "\(error)"])
            return answer("failure")
        }
        do {
            let result = try await store.settle(evidence, rules: rules, logger: context.logger)
            switch result {
            case .paid: Self.notifies["paid"]?.increment()
            case .alreadyPaid: Self.notifies["already_paid"]?.increment()
            case .recorded: Self.notifies["recorded"]?.increment()
            }
            if result == .paid { relay.wake() }
            context.logger.info("payment.notify.handled", metadata: [
                "payment.out_trade_no": "\(evidence.outTradeNo)", "alipay.trade_status": "\(evidence.tradeStatus)", "payment.result": "\(result)",
            ])
            return answer("success")
        } catch let refusal as PaymentRefusal {
            Self.notifies["refused_settlement"]?.increment()
            context.logger.warning("payment.notify.refused", metadata: ["reason": "\(refusal)"])
            return answer("failure")
        }
    }

    /// `GET /pay/ok`: the synchronous return. Verified, read-only.
    @Sendable func returnPage(_ request: Request, context: ShopRequestContext) async throws -> Response {
        let query = Array((request.uri.query ?? "").utf8)
        let pairs: [(String, String)]
        do {
            pairs = try verifier.verify(formBody: query)
        } catch {
            context.logger.warning("payment.return.refused", metadata: ["reason": "\(error)"])
            return message("验签失败", "the return could not be verified", status: .badRequest)
        }
        let p = Dictionary(pairs, uniquingKeysWith: { a, _ in a })
        guard let outTradeNo = p["out_trade_no"], let payment = try await store.find(outTradeNo: outTradeNo) else {
            return message("订单不存在", "unknown out_trade_no", status: .notFound)
        }
        guard payment.status == .paid else {
            return message("支付确认中", "payment for order \(outTradeNo) is being confirmed", status: .ok, refresh: true)
        }
        return ShopJSON.html(pages.render("paid", [
            "orderSn": payment.outTradeNo, "payAmount": payment.totalAmount.yuan, "tradeNo": payment.tradeNo ?? "",
        ]))
    }
}
