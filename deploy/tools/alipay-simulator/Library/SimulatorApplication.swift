import Alipay
import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceKit
import Signing

/// Builds the Alipay simulator: `gateway.do` (page pay with time_expire, trade query, close,
/// refund and refund query, merchant signatures checked), a cashier page, paying (signed notify
/// with retries, then the signed return), refund notifies, and faults tests can inject.
public func buildSimulator(_ config: SimulatorConfig, logger: Logger = Logger(label: "gmall.alipay-simulator")) throws -> ShopApplication {
    let merchantKey = try RSAPublicKey(text: config.merchantPublicKey)
    let signer = AlipayMessageSigner(alipayKey: try RSAPrivateKey(text: config.alipayPrivateKey), appID: config.appID, sellerID: config.sellerID)
    let book = TradeBook()
    let http = HTTPClient(eventLoopGroupProvider: .singleton)
    let dispatcher = NotifyDispatcher(http: http, book: book, scale: config.retryScale, logger: logger)
    let methods = GatewayMethods(book: book, signer: signer, dispatcher: dispatcher, logger: logger)
    let router = Router.shop(.public)

    /// The query's and the form body's parameters; a malformed form is the client's error (400).
    @Sendable func parameters(_ request: Request, _ context: ShopRequestContext) async throws -> [String: String] {
        var merged: [String: String] = [:]
        do {
            for (k, v) in try FormBody.parse(Array((request.uri.query ?? "").utf8)) { merged[k] = v }
            if request.method == .post {
                let body = try await request.body.collect(upTo: context.maxUploadSize)
                for (k, v) in try FormBody.parse(Array(body.readableBytesView)) { merged[k] = v }
            }
        } catch let error as FormBodyError {
            throw ShopError.badRequest("the form is not valid application/x-www-form-urlencoded UTF-8: \(error)")
        }
        return merged
    }

    @Sendable func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response { ShopJSON.html(text, status: status) }
    /// Text from a request, made safe to put into a page.
    @Sendable func escaped(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    @Sendable func json(_ body: String) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json;charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    @Sendable func gateway(_ request: Request, context: ShopRequestContext) async throws -> Response {
        let params: [String: String]
        do { params = try await parameters(request, context) } catch {
            return html("<h1>invalid request</h1><p>\(escaped("\(error)"))</p>", status: .badRequest)
        }
        let method = params["method"] ?? ""
        let signatureOK = params["sign"].map { merchantKey.verifyRSA2(signature: $0, content: AlipaySignContent.request(params)) } ?? false
        let appOK = params["app_id"] == config.appID && params["sign_type"] == "RSA2"
        // Alipay's biz fields are strings; anything else (a JSON number amount) counts as absent.
        let biz = ((params["biz_content"].flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) } as? [String: Any]) ?? [:])
            .compactMapValues { $0 as? String }
        if let key = GatewayMethods.responseKeys[method] {
            // An injected fault answers before anything is looked at, so it changes nothing.
            if await book.takeFault(method) {
                logger.warning("simulator.fault.answered", metadata: ["alipay.method": "\(method)", "alipay.out_trade_no": "\(biz["out_trade_no"] ?? "-")"])
                return json(try signer.response(key: key, members: GatewayMethods.systemError(method, outTradeNo: biz["out_trade_no"])))
            }
            guard signatureOK, appOK else {
                logger.warning("simulator.gateway.refused", metadata: [
                    "reason": "invalid merchant signature or app_id", "alipay.method": "\(method)", "alipay.app_id": "\(params["app_id"] ?? "-")",
                ])
                return json(try signer.response(key: key, members: GatewayMethods.invalidSignature(method, outTradeNo: biz["out_trade_no"])))
            }
            return json(try signer.response(key: key, members: await methods.answer(method, biz: biz)))
        }
        switch method {
        case "alipay.trade.page.pay":
            guard signatureOK, appOK else {
                logger.warning("simulator.page_pay.refused", metadata: ["reason": "invalid merchant signature or app_id", "alipay.app_id": "\(params["app_id"] ?? "-")"])
                return html("<h1>错误代码 invalid-signature</h1><p>验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配</p>", status: .badRequest)
            }
            guard let outTradeNo = biz["out_trade_no"], let amount = biz["total_amount"],
                  let subject = biz["subject"], let notifyURL = params["notify_url"], let returnURL = params["return_url"],
                  biz["product_code"] == "FAST_INSTANT_TRADE_PAY"
            else { return html("<h1>缺少必选参数</h1>", status: .badRequest) }
            // Refunds are summed in fen, so the amount must be Alipay's: yuan, 0.01 to 100000000.
            guard let cents = Cents.parse(amount), cents > 0 else {
                return html("<h1>参数无效</h1><p>total_amount \(escaped(String(amount.prefix(32))))</p>", status: .badRequest)
            }
            var expiresAt: Date?
            if let timeExpire = biz["time_expire"], !timeExpire.isEmpty {
                guard let date = ChinaTime.parse(timeExpire) else {
                    return html("<h1>参数无效</h1><p>time_expire \(escaped(String(timeExpire.prefix(32))))，格式 yyyy-MM-dd HH:mm:ss</p>", status: .badRequest)
                }
                expiresAt = date
            }
            let trade = await book.open(
                outTradeNo: outTradeNo, totalAmount: amount, subject: subject, notifyURL: notifyURL, returnURL: returnURL,
                passback: biz["passback_params"], expiresAt: expiresAt)
            guard trade.status != "TRADE_CLOSED" else {
                logger.info("simulator.page_pay.closed", metadata: ["alipay.out_trade_no": "\(trade.outTradeNo)"])
                return html("<h1>交易已关闭</h1><p>错误代码 ACQ.TRADE_HAS_CLOSE</p>", status: .badRequest)
            }
            return html("""
                <!DOCTYPE html><html><head><meta charset="utf-8"><title>支付宝 模拟收银台</title></head><body>
                <h1>支付宝 模拟收银台 (local simulator)</h1>
                <p>商品：\(escaped(subject))</p><p>订单号：\(escaped(trade.outTradeNo))</p><p>金额：¥<b id="amount">\(escaped(trade.totalAmount))</b></p>
                <form method="POST" action="/alipay-sim/pay">
                <input type="hidden" name="out_trade_no" value="\(FormBody.encode(trade.outTradeNo))">
                <button type="submit">确认付款</button></form></body></html>
                """)
        default:
            return html("<h1>unknown method \(escaped(String(method.prefix(64))))</h1>", status: .badRequest)
        }
    }

    router.get("/alipay-sim/gateway.do", use: gateway)
    router.post("/alipay-sim/gateway.do", use: gateway)

    /// The buyer pays: the trade becomes TRADE_SUCCESS, a signed notify is sent (unless
    /// `drop_notify=1`, to test the active query), and the buyer is sent to the return URL.
    /// A closed trade (by the merchant, by its time_expire, or fully refunded) takes no money.
    router.post("/alipay-sim/pay") { request, context -> Response in
        let params = try await parameters(request, context)
        guard let outTradeNo = params["out_trade_no"] else { return html("<h1>交易不存在</h1>", status: .notFound) }
        let trade: SimulatedTrade
        switch await book.pay(outTradeNo) {
        case .unknown:
            return html("<h1>交易不存在</h1>", status: .notFound)
        case .closed(let closed):
            logger.info("simulator.pay.refused", metadata: ["alipay.out_trade_no": "\(closed.outTradeNo)", "reason": "trade closed"])
            return html("<h1>交易已关闭</h1><p>错误代码 ACQ.TRADE_HAS_CLOSE</p>", status: .conflict)
        case .paid(let paid):
            trade = paid
        }
        if params["drop_notify"] != "1" {
            let notify = try signer.notify(
                outTradeNo: trade.outTradeNo, tradeNo: trade.tradeNo, totalAmount: trade.totalAmount, subject: trade.subject,
                tradeStatus: trade.status, passback: trade.passbackParams)
            dispatcher.enqueue(.init(outTradeNo: trade.outTradeNo, url: trade.notifyURL, body: FormBody.encode(notify)))
        }
        let query = FormBody.encode(try signer.returnParameters(outTradeNo: trade.outTradeNo, tradeNo: trade.tradeNo, totalAmount: trade.totalAmount))
        let separator = trade.returnURL.contains("?") ? "&" : "?"
        return Response(status: .found, headers: [.location: trade.returnURL + separator + query])
    }

    /// Tests make Alipay fail: the next `times` (default 1, 0 clears) gateway calls of `method`
    /// answer Alipay's system error (code 20000) and change nothing. Not behind the gateway.
    router.post("/alipay-sim/admin/fail") { request, context -> Response in
        let params = try await parameters(request, context)
        guard let method = params["method"], GatewayMethods.responseKeys[method] != nil else {
            return html("<h1>method must be one of \(GatewayMethods.responseKeys.keys.sorted().joined(separator: ", "))</h1>", status: .badRequest)
        }
        let times = params["times"].map { Int($0) } ?? 1  // absent: once; not a number: nil
        guard let times, (0...1000).contains(times) else {
            return html("<h1>times must be a whole number from 0 to 1000</h1>", status: .badRequest)
        }
        await book.failNext(method, times: times)
        logger.info("simulator.fault.armed", metadata: ["alipay.method": "\(method)", "times": "\(times)"])
        return try ShopJSON.json(ArmedFault(method: method, times: times))
    }

    /// What the simulator knows of a trade (tests and the demo read notify attempts here).
    router.get("/alipay-sim/trade") { request, _ -> Response in
        guard let sn = request.uri.queryParameters.get("out_trade_no"), let trade = await book.trade(sn) else {
            return Response(status: .notFound)
        }
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: try ShopJSON.encoder.encode(trade))))
    }
    router.get("/alipay-sim/health") { _, _ in "UP" }
    router.get("/health") { _, _ in "UP" }

    return Application(
        router: router,
        configuration: .init(address: .hostname(config.host, port: config.port), serverName: "alipay-simulator"),
        services: [HTTPClientService(client: http), dispatcher],
        logger: logger)
}

/// The answer to `/alipay-sim/admin/fail`: what is now armed.
private struct ArmedFault: Encodable {
    let method: String
    let times: Int
}
