/// What Alipay told us about a trade, from a verified notify or a verified query response.
package struct PaymentEvidence: Sendable {
    package enum Source: String, Sendable { case notify, query }
    package var source: Source
    package var outTradeNo: String
    package var tradeStatus: String
    package var totalAmount: String
    package var tradeNo: String?
    package var appID: String?
    package var sellerID: String?
    package var notifyID: String?
    /// Present on refund notifies (`TRADE_SUCCESS` with `refund_fee`): never a second payment.
    package var refundFee: String?
    /// On refund notifies: the refund request number (`out_request_no`) the notify is about.
    package var outBizNo: String? = nil
    /// The notify's parameters (or the query response) as JSON, kept in `callback_content`.
    package var content: String
}
