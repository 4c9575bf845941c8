import Alipay
import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceKit
import ServiceLifecycle
import Signing

/// Builds Alipay-shaped, Alipay-signed notify and return parameters.
public struct AlipayMessageSigner: Sendable {
    public let alipayKey: RSAPrivateKey
    public let appID: String
    public let sellerID: String

    public init(alipayKey: RSAPrivateKey, appID: String, sellerID: String) {
        self.alipayKey = alipayKey
        self.appID = appID
        self.sellerID = sellerID
    }

    /// The notify's parameters, signed (`sign` over all but `sign` and `sign_type`).
    public func notify(outTradeNo: String, tradeNo: String, totalAmount: String, subject: String, tradeStatus: String, passback: String?, now: Date = Date(), notifyID: String = UUID().uuidString.replacingOccurrences(of: "-", with: "")) throws -> [(String, String)] {
        var p: [(String, String)] = [
            ("gmt_create", AlipayTime.format(now.addingTimeInterval(-8))), ("charset", "utf-8"),
            ("gmt_payment", AlipayTime.format(now.addingTimeInterval(-1))), ("notify_time", AlipayTime.format(now)),
            ("subject", subject), ("buyer_id", "2088722003900000"), ("invoice_amount", totalAmount), ("version", "1.0"),
            ("notify_id", notifyID),
            ("fund_bill_list", "[{&quot;amount&quot;:&quot;\(totalAmount)&quot;,&quot;fundChannel&quot;:&quot;ALIPAYACCOUNT&quot;}]"),
            ("notify_type", "trade_status_sync"), ("out_trade_no", outTradeNo), ("total_amount", totalAmount),
            ("trade_status", tradeStatus), ("trade_no", tradeNo), ("auth_app_id", appID), ("receipt_amount", totalAmount),
            ("point_amount", "0.00"), ("buyer_pay_amount", totalAmount), ("app_id", appID), ("sign_type", "RSA2"),
            ("seller_id", sellerID),
        ]
        if let passback { p.append(("passback_params", passback)) }
        p.append(("sign", try alipayKey.signRSA2(AlipaySignContent.notification(p))))
        return p
    }

    /// The synchronous return's query parameters, signed.
    public func returnParameters(outTradeNo: String, tradeNo: String, totalAmount: String, now: Date = Date()) throws -> [(String, String)] {
        var p: [(String, String)] = [
            ("charset", "utf-8"), ("out_trade_no", outTradeNo), ("method", "alipay.trade.page.pay.return"),
            ("total_amount", totalAmount), ("trade_no", tradeNo), ("auth_app_id", appID), ("version", "1.0"),
            ("app_id", appID), ("sign_type", "RSA2"), ("seller_id", sellerID), ("timestamp", AlipayTime.format(now)),
        ]
        p.append(("sign", try alipayKey.signRSA2(AlipaySignContent.notification(p))))
        return p
    }

    /// A gateway response body `{"<key>":{...},"sign":"..."}` signed over the object's exact text.
    public func response(key: String, members: [(String, String)]) throws -> String {
        let object = AlipayJSONText.object(members)
        return "{\(AlipayJSONText.string(key)):\(object),\"sign\":\(AlipayJSONText.string(try alipayKey.signRSA2(object)))}"
    }
}
