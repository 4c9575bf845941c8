import Alipay
import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceKit
import Signing

/// Builds the Alipay simulator: `gateway.do` (page pay and trade query, merchant signatures
/// checked), a cashier page, paying (signed notify with retries, then the signed return).
public func buildSimulator(_ config: SimulatorConfig, logger: Logger = Logger(label: "gmall.alipay-simulator")) throws -> ShopApplication {
    let merchantKey = try RSAPublicKey(text: config.merchantPublicKey)
    let signer = AlipayMessageSigner(alipayKey: try RSAPrivateKey(text: config.alipayPrivateKey), appID: config.appID, sellerID: config.sellerID)
    let book = TradeBook()
    let http = HTTPClient(eventLoopGroupProvider: .singleton)
    let dispatcher = NotifyDispatcher(http: http, book: book, scale: config.retryScale, logger: logger)
    let router = Router.shop()

    /// The query's and the form body's parameters; a malformed form is the client's error (400).
    @Sendable func parameters(_ request: Request, _ context: ShopRequestContext) async throws -> [String: String] {
        var merged: [String: String] = [:]
        do {
            for (k, v) in try FormBody.parse(Array((request.uri.query ?? "").utf8)) { merged[k] = v }
            if request.method == .post {
                let body = try await request.body.collect(upTo: context.maxUploadSize)
                for (k, v) in try FormBody.parse(body.readableBytesView) { merged[k] = v }
            }
        } catch let error as FormBodyError {
            throw ShopError.badRequest("the form is not valid application/x-www-form-urlencoded UTF-8: \(error)")
        }
        return merged
    }

    @Sendable func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response { ShopJSON.html(text, status: status) }
    /// Text from a request, made safe to put into a page.
    @Sendable func escaped(_ text: some StringProtocol) -> String {
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

    @Sendable func gateway(_ request: Request, context: ShopRequestContext) async throws -> Response {
        let params: [String: String]
        do { params = try await parameters(request, context) } catch {
            return html("<h1>invalid request</h1><p>\(escaped("\(error)"))</p>", status: .badRequest)
        }
        let method = params["method"] ?? ""
        let signatureOK = params["sign"].map { merchantKey.verifyRSA2(signature: $0, content: AlipaySignContent.request(params)) } ?? false
        let appOK = params["app_id"] == config.appID && params["sign_type"] == "RSA2"
        let biz = (params["biz_content"].flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) } as? [String: Any]) ?? [:]
        switch method {
        case "alipay.trade.page.pay":
            guard signatureOK, appOK else {
                logger.warning("simulator.page_pay.refused", metadata: ["reason": "invalid merchant signature or app_id", "alipay.app_id": "\(params["app_id"] ?? "-")"])
                return html("<h1>错误代码 invalid-signature</h1><p>验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配</p>", status: .badRequest)
            }
            guard let outTradeNo = biz["out_trade_no"] as? String, let amount = biz["total_amount"] as? String,
                  let subject = biz["subject"] as? String, let notifyURL = params["notify_url"], let returnURL = params["return_url"],
                  biz["product_code"] as? String == "FAST_INSTANT_TRADE_PAY"
            else { return html("<h1>缺少必选参数</h1>", status: .badRequest) }
            let trade = await book.open(
                outTradeNo: outTradeNo, totalAmount: amount, subject: subject, notifyURL: notifyURL, returnURL: returnURL,
                passback: biz["passback_params"] as? String)
            return html("""
                <!DOCTYPE html><html><head><meta charset="utf-8"><title>支付宝 模拟收银台</title></head><body>
                <h1>支付宝 模拟收银台 (local simulator)</h1>
                <p>商品：\(escaped(subject))</p><p>订单号：\(escaped(trade.outTradeNo))</p><p>金额：¥<b id="amount">\(escaped(trade.totalAmount))</b></p>
                <form method="POST" action="/alipay-sim/pay">
                <input type="hidden" name="out_trade_no" value="\(FormBody.encode(trade.outTradeNo))">
                <button type="submit">确认付款</button></form></body></html>
                """)
        case "alipay.trade.query":
            let key = "alipay_trade_query_response"
            guard signatureOK, appOK else {
                return try Response(status: .ok, headers: [.contentType: "application/json;charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: signer.response(
                    key: key, members: [("code", "40002"), ("msg", "Invalid Arguments"), ("sub_code", "isv.invalid-signature"), ("sub_msg", "验签出错")]))))
            }
            let outTradeNo = biz["out_trade_no"] as? String ?? ""
            let members: [(String, String)]
            if let trade = await book.trade(outTradeNo) {
                members = [
                    ("code", "10000"), ("msg", "Success"), ("buyer_logon_id", "ewg***@sandbox.com"),
                    ("buyer_pay_amount", trade.status == "TRADE_SUCCESS" ? trade.totalAmount : "0.00"),
                    ("buyer_user_id", "2088722003900000"), ("out_trade_no", trade.outTradeNo),
                    ("total_amount", trade.totalAmount), ("trade_no", trade.tradeNo), ("trade_status", trade.status),
                ]
            } else {
                members = [("code", "40004"), ("msg", "Business Failed"), ("sub_code", "ACQ.TRADE_NOT_EXIST"), ("sub_msg", "交易不存在"), ("out_trade_no", outTradeNo)]
            }
            return Response(status: .ok, headers: [.contentType: "application/json;charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: try signer.response(key: key, members: members))))
        default:
            return html("<h1>unknown method \(escaped(method.prefix(64)))</h1>", status: .badRequest)
        }
    }

    router.get("/alipay-sim/gateway.do", use: gateway)
    router.post("/alipay-sim/gateway.do", use: gateway)

    /// The buyer pays: the trade becomes TRADE_SUCCESS, a signed notify is sent (unless
    /// `drop_notify=1`, to test the active query), and the buyer is sent to the return URL.
    router.post("/alipay-sim/pay") { request, context -> Response in
        let params = try await parameters(request, context)
        guard let outTradeNo = params["out_trade_no"], let trade = await book.pay(outTradeNo) else {
            return html("<h1>交易不存在</h1>", status: .notFound)
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
