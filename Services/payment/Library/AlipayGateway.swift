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
    /// Where payment itself calls Alipay (query, close, refund): the same URL in real life; inside
    /// a container network the simulator has another address than the browser uses.
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

    /// The signed parameters of `alipay.trade.page.pay` for a payment. The trade expires when its
    /// order closes (`time_expire`): nobody pays for an order whose stock was released.
    package func pagePayParameters(payment: PaymentRecord, expiresAt: Date, now: Date = Date()) throws -> [String: String] {
        var params = commonParameters(method: "alipay.trade.page.pay", now: now)
        params["notify_url"] = notifyURL
        params["return_url"] = returnURL
        let biz: [(String, String)] = [
            ("out_trade_no", payment.outTradeNo),
            ("product_code", "FAST_INSTANT_TRADE_PAY"),
            ("total_amount", payment.totalAmount.yuan),
            ("subject", payment.subject),
            ("time_expire", AlipayTime.format(expiresAt)),
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

    /// Asks Alipay about a trade.
    package func queryTrade(outTradeNo: String, now: Date = Date()) async throws -> TradeQueryResult {
        let answer = try await call("alipay.trade.query", [("out_trade_no", outTradeNo)], now: now)
        return TradeQueryResult(
            code: answer.code, subCode: answer.subCode, tradeStatus: answer["trade_status"], totalAmount: answer["total_amount"],
            tradeNo: answer["trade_no"], outTradeNo: answer["out_trade_no"], rawResponse: answer.raw)
    }

    /// `alipay.trade.close`: an unpaid trade can no longer be paid.
    package func closeTrade(outTradeNo: String, now: Date = Date()) async throws -> AlipayAnswer {
        try await call("alipay.trade.close", [("out_trade_no", outTradeNo)], now: now)
    }

    /// `alipay.trade.refund`: `amount` of the trade back to the buyer; `outRequestNo` makes a
    /// repeat of the same request a no-op at Alipay (`fund_change` N).
    package func refund(outTradeNo: String, amount: Money, outRequestNo: String, reason: String, now: Date = Date()) async throws -> AlipayAnswer {
        try await call("alipay.trade.refund", [
            ("out_trade_no", outTradeNo), ("refund_amount", amount.yuan), ("out_request_no", outRequestNo), ("refund_reason", reason),
        ], now: now)
    }

    /// `alipay.trade.fastpay.refund.query`: whether the refund `outRequestNo` was made.
    package func queryRefund(outTradeNo: String, outRequestNo: String, now: Date = Date()) async throws -> AlipayAnswer {
        try await call("alipay.trade.fastpay.refund.query", [("out_trade_no", outTradeNo), ("out_request_no", outRequestNo)], now: now)
    }

    /// One signed call; the answer's signature is checked over its raw JSON text. Unreachable,
    /// an HTTP error or an unverifiable body throws `AlipayUnavailable`.
    func call(_ method: String, _ biz: [(String, String)], now: Date) async throws -> AlipayAnswer {
        var params = commonParameters(method: method, now: now)
        params["biz_content"] = AlipayJSONText.object(biz)
        let signed = try merchantKey.signAlipayRequest(params)
        var request = HTTPClientRequest(url: serverGatewayURL)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded;charset=utf-8")
        request.body = .bytes(ByteBuffer(string: FormBody.encode(signed.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })))
        let body: String
        do {
            let response = try await http.execute(request, timeout: .seconds(10))
            body = String(buffer: try await response.body.collect(upTo: 1 << 20))
            guard response.status == .ok else { throw AlipayUnavailable(description: "\(method) answered HTTP \(response.status.code)") }
        } catch let error as AlipayUnavailable {
            throw error
        } catch {
            throw AlipayUnavailable(description: "\(method): \(error)")
        }
        do {
            return try AlipayAnswer.parse(body: body, key: method.replacingOccurrences(of: ".", with: "_") + "_response", alipayPublicKey: alipayPublicKey)
        } catch {
            throw AlipayUnavailable(description: "\(method): \(error)")
        }
    }
}

/// Alipay could not be asked, or its answer could not be believed: try again later.
package struct AlipayUnavailable: Error, CustomStringConvertible, Sendable {
    package let description: String
}
