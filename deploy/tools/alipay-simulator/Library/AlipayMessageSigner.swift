import Alipay
import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceKit
import ServiceLifecycle
import Signing

/// Builds Alipay-shaped, Alipay-signed notify and return parameters and gateway responses.
public struct AlipayMessageSigner: Sendable {
    public let alipayKey: RSAPrivateKey
    public let appID: String
    public let sellerID: String

    public init(alipayKey: RSAPrivateKey, appID: String, sellerID: String) {
        self.alipayKey = alipayKey
        self.appID = appID
        self.sellerID = sellerID
    }

    /// The simulated buyer (Alipay's sandbox shapes): in notifies, query and refund answers.
    static let buyerUserID = "2088722003900000"
    static let buyerLogonID = "ewg***@sandbox.com"

    /// The notify's parameters, signed (`sign` over all but `sign` and `sign_type`).
    public func notify(outTradeNo: String, tradeNo: String, totalAmount: String, subject: String, tradeStatus: String, passback: String?, now: Date = Date(), notifyID: String = UUID().uuidString.replacingOccurrences(of: "-", with: "")) throws -> [(String, String)] {
        var p = tradeFields(
            outTradeNo: outTradeNo, tradeNo: tradeNo, totalAmount: totalAmount, subject: subject, tradeStatus: tradeStatus, passback: passback,
            gmtCreate: now.addingTimeInterval(-8), gmtPayment: now.addingTimeInterval(-1), now: now, notifyID: notifyID)
        p.append(("sign", try alipayKey.signRSA2(AlipaySignContent.notification(p))))
        return p
    }

    /// A refund's notify, signed like the payment's: the trade's fields (its own creation and
    /// payment times) plus `refund_fee` (cumulative yuan), `gmt_refund` (milliseconds),
    /// `out_biz_no` (the refund's out_request_no) and, once fully refunded and so closed,
    /// `gmt_close`.
    public func refundNotify(
        outTradeNo: String, tradeNo: String, totalAmount: String, subject: String, tradeStatus: String, passback: String?,
        refundFee: String, outBizNo: String, gmtCreate: Date, gmtPayment: Date, gmtRefund: Date, gmtClose: Date?,
        now: Date = Date(), notifyID: String = UUID().uuidString.replacingOccurrences(of: "-", with: "")
    ) throws -> [(String, String)] {
        var p = tradeFields(
            outTradeNo: outTradeNo, tradeNo: tradeNo, totalAmount: totalAmount, subject: subject, tradeStatus: tradeStatus, passback: passback,
            gmtCreate: gmtCreate, gmtPayment: gmtPayment, now: now, notifyID: notifyID)
        p.append(("refund_fee", refundFee))
        p.append(("gmt_refund", ChinaTime.formatMilliseconds(gmtRefund)))
        p.append(("out_biz_no", outBizNo))
        if let gmtClose { p.append(("gmt_close", AlipayTime.format(gmtClose))) }
        p.append(("sign", try alipayKey.signRSA2(AlipaySignContent.notification(p))))
        return p
    }

    /// The unsigned fields every trade_status_sync notify carries.
    private func tradeFields(
        outTradeNo: String, tradeNo: String, totalAmount: String, subject: String, tradeStatus: String, passback: String?,
        gmtCreate: Date, gmtPayment: Date, now: Date, notifyID: String
    ) -> [(String, String)] {
        var p: [(String, String)] = [
            ("gmt_create", AlipayTime.format(gmtCreate)), ("charset", "utf-8"),
            ("gmt_payment", AlipayTime.format(gmtPayment)), ("notify_time", AlipayTime.format(now)),
            ("subject", subject), ("buyer_id", Self.buyerUserID), ("invoice_amount", totalAmount), ("version", "1.0"),
            ("notify_id", notifyID),
            ("fund_bill_list", "[{&quot;amount&quot;:&quot;\(totalAmount)&quot;,&quot;fundChannel&quot;:&quot;ALIPAYACCOUNT&quot;}]"),
            ("notify_type", "trade_status_sync"), ("out_trade_no", outTradeNo), ("total_amount", totalAmount),
            ("trade_status", tradeStatus), ("trade_no", tradeNo), ("auth_app_id", appID), ("receipt_amount", totalAmount),
            ("point_amount", "0.00"), ("buyer_pay_amount", totalAmount), ("app_id", appID), ("sign_type", "RSA2"),
            ("seller_id", sellerID),
        ]
        if let passback { p.append(("passback_params", passback)) }
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
