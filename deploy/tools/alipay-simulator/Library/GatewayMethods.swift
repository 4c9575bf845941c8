import Alipay
import Foundation
import Logging

/// The JSON methods of `gateway.do` (trade query, close, refund, refund query), after the
/// merchant's signature and app_id passed: each answers the members of its response object,
/// `code`, `msg` (and `sub_code`, `sub_msg` on failure) first, then the rest in ascending key
/// order as Alipay's live responses come.
struct GatewayMethods: Sendable {
    let book: TradeBook
    let signer: AlipayMessageSigner
    let dispatcher: NotifyDispatcher
    let logger: Logger

    /// Each JSON method and its response key.
    static let responseKeys: [String: String] = [
        "alipay.trade.query": "alipay_trade_query_response",
        "alipay.trade.close": "alipay_trade_close_response",
        "alipay.trade.refund": "alipay_trade_refund_response",
        "alipay.trade.fastpay.refund.query": "alipay_trade_fastpay_refund_query_response",
    ]

    /// A failure answer. It names the trade when the request (or the book) did, and a refund's
    /// failure also says that nothing was refunded, as Alipay's refund failures do.
    static func failure(_ method: String, code: String, msg: String, subCode: String, subMsg: String, outTradeNo: String?) -> [(String, String)] {
        var members = [("code", code), ("msg", msg), ("sub_code", subCode), ("sub_msg", subMsg)]
        if let outTradeNo, !outTradeNo.isEmpty { members.append(("out_trade_no", outTradeNo)) }
        if method == "alipay.trade.refund" { members += [("refund_fee", "0.00"), ("send_back_fee", "0.00")] }
        return members
    }

    /// Alipay's answer to a call it could not serve (the fault tests inject): state unchanged.
    static func systemError(_ method: String, outTradeNo: String?) -> [(String, String)] {
        failure(method, code: "20000", msg: "Service Currently Unavailable", subCode: "isp.unknow-error", subMsg: "系统繁忙", outTradeNo: outTradeNo)
    }

    /// Alipay's answer to a request whose signature or app_id did not check out.
    static func invalidSignature(_ method: String, outTradeNo: String?) -> [(String, String)] {
        failure(method, code: "40002", msg: "Invalid Arguments", subCode: "isv.invalid-signature", subMsg: "验签出错", outTradeNo: outTradeNo)
    }

    /// The members answering `method` (one of `responseKeys`) with the string members of biz_content.
    func answer(_ method: String, biz: [String: String], now: Date = Date()) async -> [(String, String)] {
        let outTradeNo = biz["out_trade_no"].flatMap { $0.isEmpty ? nil : $0 }
        let tradeNo = biz["trade_no"].flatMap { $0.isEmpty ? nil : $0 }
        guard outTradeNo != nil || tradeNo != nil else {
            return Self.failure(method, code: "40004", msg: "Business Failed", subCode: "ACQ.INVALID_PARAMETER", subMsg: "参数无效", outTradeNo: nil)
        }
        func notExist() -> [(String, String)] {
            Self.failure(method, code: "40004", msg: "Business Failed", subCode: "ACQ.TRADE_NOT_EXIST", subMsg: "交易不存在", outTradeNo: outTradeNo)
        }
        func statusError(_ trade: SimulatedTrade) -> [(String, String)] {
            Self.failure(method, code: "40004", msg: "Business Failed", subCode: "ACQ.TRADE_STATUS_ERROR", subMsg: "交易状态不合法", outTradeNo: trade.outTradeNo)
        }
        switch method {
        case "alipay.trade.query":
            guard let trade = await book.trade(outTradeNo: outTradeNo, tradeNo: tradeNo, now: now) else { return notExist() }
            return [
                ("code", "10000"), ("msg", "Success"), ("buyer_logon_id", AlipayMessageSigner.buyerLogonID),
                // What the buyer paid stays paid when refunds later close the trade.
                ("buyer_pay_amount", trade.paidAt != nil ? trade.totalAmount : "0.00"),
                ("buyer_user_id", AlipayMessageSigner.buyerUserID), ("out_trade_no", trade.outTradeNo),
                ("total_amount", trade.totalAmount), ("trade_no", trade.tradeNo), ("trade_status", trade.status),
            ]

        case "alipay.trade.close":
            switch await book.close(outTradeNo: outTradeNo, tradeNo: tradeNo, now: now) {
            case .unknown:
                return notExist()
            case .refused(let trade):
                logger.info("simulator.close.refused", metadata: ["alipay.out_trade_no": "\(trade.outTradeNo)", "alipay.trade_status": "\(trade.status)"])
                return statusError(trade)
            case .closed(let trade):
                logger.info("simulator.close.done", metadata: ["alipay.out_trade_no": "\(trade.outTradeNo)"])
                return [("code", "10000"), ("msg", "Success"), ("out_trade_no", trade.outTradeNo), ("trade_no", trade.tradeNo)]
            }

        case "alipay.trade.refund":
            let outcome = await book.refund(
                outTradeNo: outTradeNo, tradeNo: tradeNo, amount: biz["refund_amount"], outRequestNo: biz["out_request_no"],
                reason: biz["refund_reason"], now: now)
            switch outcome {
            case .unknownTrade:
                return notExist()
            case .notPaid(let trade):
                return statusError(trade)
            case .invalidAmount(let trade):
                return Self.failure(method, code: "40004", msg: "Business Failed", subCode: "ACQ.REFUND_FEE_ERROR", subMsg: "退款金额不合法", outTradeNo: trade.outTradeNo)
            case .exceeds(let trade):
                logger.info("simulator.refund.refused", metadata: ["alipay.out_trade_no": "\(trade.outTradeNo)", "alipay.refunded_amount": "\(trade.refundedAmount)"])
                return Self.failure(method, code: "40004", msg: "Business Failed", subCode: "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", subMsg: "退款金额超限", outTradeNo: trade.outTradeNo)
            case .repeated(let trade, let refund, let refundFee):
                logger.info("simulator.refund.repeated", metadata: ["alipay.out_trade_no": "\(trade.outTradeNo)", "alipay.out_request_no": "\(refund.outRequestNo)"])
                return refunded(trade, refund, refundFee: refundFee, fundChange: "N")
            case .refunded(let trade, let refund, let refundFee):
                logger.info("simulator.refund.done", metadata: [
                    "alipay.out_trade_no": "\(trade.outTradeNo)", "alipay.out_request_no": "\(refund.outRequestNo)",
                    "alipay.refund_fee": "\(refundFee)", "alipay.trade_status": "\(trade.status)",
                ])
                sendRefundNotify(trade, refund, refundFee: refundFee)
                return refunded(trade, refund, refundFee: refundFee, fundChange: "Y")
            }

        case "alipay.trade.fastpay.refund.query":
            guard let outRequestNo = biz["out_request_no"], !outRequestNo.isEmpty else {
                return Self.failure(method, code: "40004", msg: "Business Failed", subCode: "ACQ.INVALID_PARAMETER", subMsg: "参数无效", outTradeNo: outTradeNo)
            }
            guard let trade = await book.trade(outTradeNo: outTradeNo, tradeNo: tradeNo, now: now) else { return notExist() }
            guard let refund = trade.refunds.first(where: { $0.outRequestNo == outRequestNo }) else {
                // Alipay: an answer without refund data means that request refunded nothing.
                return [("code", "10000"), ("msg", "Success"), ("out_trade_no", trade.outTradeNo), ("trade_no", trade.tradeNo)]
            }
            return [
                ("code", "10000"), ("msg", "Success"), ("out_request_no", refund.outRequestNo), ("out_trade_no", trade.outTradeNo),
                ("refund_amount", refund.amount), ("refund_status", "REFUND_SUCCESS"), ("total_amount", trade.totalAmount),
                ("trade_no", trade.tradeNo),
            ]

        default:
            return Self.failure(method, code: "40002", msg: "Invalid Arguments", subCode: "isv.invalid-method", subMsg: "不存在的方法名", outTradeNo: nil)
        }
    }

    private func refunded(_ trade: SimulatedTrade, _ refund: SimulatedRefund, refundFee: String, fundChange: String) -> [(String, String)] {
        [
            ("code", "10000"), ("msg", "Success"), ("buyer_logon_id", AlipayMessageSigner.buyerLogonID),
            ("buyer_user_id", AlipayMessageSigner.buyerUserID), ("fund_change", fundChange), ("gmt_refund_pay", AlipayTime.format(refund.at)),
            ("out_trade_no", trade.outTradeNo), ("refund_fee", refundFee), ("send_back_fee", "0.00"), ("trade_no", trade.tradeNo),
        ]
    }

    /// Alipay notifies a refund like a payment (trade_status_sync), with its own notify_id.
    /// The refund is already booked, so a notify that cannot be signed is logged, not answered.
    private func sendRefundNotify(_ trade: SimulatedTrade, _ refund: SimulatedRefund, refundFee: String) {
        let fullyRefunded = trade.status == "TRADE_CLOSED"
        do {
            let notify = try signer.refundNotify(
                outTradeNo: trade.outTradeNo, tradeNo: trade.tradeNo, totalAmount: trade.totalAmount, subject: trade.subject,
                tradeStatus: fullyRefunded ? "TRADE_CLOSED" : "TRADE_SUCCESS", passback: trade.passbackParams,
                refundFee: refundFee, outBizNo: refund.outRequestNo, gmtCreate: trade.createdAt, gmtPayment: trade.paidAt ?? trade.createdAt,
                gmtRefund: refund.at, gmtClose: fullyRefunded ? refund.at : nil)
            dispatcher.enqueue(.init(outTradeNo: trade.outTradeNo, outRequestNo: refund.outRequestNo, url: trade.notifyURL, body: FormBody.encode(notify)))
        } catch {
            logger.error("simulator.refund.notify_unsigned", error: error, metadata: ["alipay.out_trade_no": "\(trade.outTradeNo)"])
        }
    }
}
