import Alipay
import AsyncHTTPClient
import Contracts
import Foundation
import NIOCore
import Signing

/// Calls made to Alipay's gateway (or the simulator, or the sandbox: only the URL differs).
package struct AlipayGateway: Sendable {
    package let appID: String
    /// Where the buyer's browser posts the page-pay form.
    package let gatewayURL: String
    /// Where payment itself calls Alipay (the trade query): the same URL in real life; inside a
    /// container network the simulator has another address than the browser uses.
    package let serverGatewayURL: String
    package let notifyURL: String
    package let returnURL: String
    package let merchantKey: RSAPrivateKey
    package let alipayPublicKey: RSAPublicKey
    package let http: HTTPClient

    func commonParameters(method: String, now: Date) -> [String: String] {
        [
            "app_id": appID, "method": method, "format": "JSON", "charset": "utf-8", "sign_type": "RSA2",
            "timestamp": AlipayTime.format(now), "version": "1.0",
        ]
    }

    /// The signed parameters of `alipay.trade.page.pay` for a payment.
    package func pagePayParameters(payment: PaymentRecord, timeoutMinutes: Int, now: Date = Date()) throws -> [String: String] {
        var params = commonParameters(method: "alipay.trade.page.pay", now: now)
        params["notify_url"] = notifyURL
        params["return_url"] = returnURL
        let biz: [(String, String)] = [
            ("out_trade_no", payment.outTradeNo),
            ("product_code", "FAST_INSTANT_TRADE_PAY"),
            ("total_amount", payment.totalAmount.yuan),
            ("subject", payment.subject),
            ("time_expire", AlipayTime.format(payment.createTime.addingTimeInterval(TimeInterval(timeoutMinutes * 60)))),
            ("passback_params", FormBody.encode("paymentId=\(payment.id)")),
        ]
        params["biz_content"] = AlipayJSONText.object(biz)
        return try merchantKey.signAlipayRequest(params)
    }

    /// The result of `alipay.trade.query`, verified.
    package struct TradeQueryResult: Sendable {
        package let code: String
        package let subCode: String?
        package let tradeStatus: String?
        package let totalAmount: String?
        package let tradeNo: String?
        package let outTradeNo: String?
        package let rawResponse: String
    }

    /// Asks Alipay about a trade; the response's signature is checked over its raw JSON text.
    package func queryTrade(outTradeNo: String, now: Date = Date()) async throws -> TradeQueryResult {
        var params = commonParameters(method: "alipay.trade.query", now: now)
        params["biz_content"] = AlipayJSONText.object([("out_trade_no", outTradeNo)])
        let signed = try merchantKey.signAlipayRequest(params)
        var request = HTTPClientRequest(url: serverGatewayURL)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded;charset=utf-8")
        request.body = .bytes(ByteBuffer(string: FormBody.encode(signed.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })))
        let response = try await http.execute(request, timeout: .seconds(10))
        let body = String(buffer: try await response.body.collect(upTo: 1 << 20))
        guard response.status == .ok else { throw PaymentRefusal("trade query answered HTTP \(response.status.code)") }
        guard let signedText = AlipayResponseBody.signedText(in: body, key: "alipay_trade_query_response") else {
            throw PaymentRefusal("trade query response has no alipay_trade_query_response")
        }
        guard let sign = signedText.sign, alipayPublicKey.verifyRSA2(signature: sign, content: signedText.text) else {
            throw PaymentRefusal("trade query response signature does not verify")
        }
        guard let object = try JSONSerialization.jsonObject(with: Data(signedText.text.utf8)) as? [String: Any] else {
            throw PaymentRefusal("trade query response is not an object")
        }
        return TradeQueryResult(
            code: object["code"] as? String ?? "", subCode: object["sub_code"] as? String,
            tradeStatus: object["trade_status"] as? String, totalAmount: object["total_amount"] as? String,
            tradeNo: object["trade_no"] as? String, outTradeNo: object["out_trade_no"] as? String, rawResponse: signedText.text)
    }
}
