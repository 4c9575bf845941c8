import Contracts

/// The merchant's rules for settlement: whose notifies we accept, and the decision table.
package struct SettlementRules: Sendable {
    package let appID: String
    /// Checked when configured and when the evidence carries one.
    package let sellerID: String?

    package init(appID: String, sellerID: String?) {
        self.appID = appID
        self.sellerID = sellerID
    }

    /// The decision for `evidence` about `payment` (nil: no payment has that `out_trade_no`).
    package func decide(_ evidence: PaymentEvidence, payment: PaymentRecord?) -> Settlement {
        // A query is our own signed call and answer; a notify must name our app.
        if evidence.source == .notify, evidence.appID != appID {
            return .refuse(PaymentRefusal("app_id \(evidence.appID ?? "-") is not ours"))
        }
        if let sellerID, let theirs = evidence.sellerID, theirs != sellerID {
            return .refuse(PaymentRefusal("seller_id \(theirs) is not ours"))
        }
        guard let payment else { return .refuse(PaymentRefusal("unknown out_trade_no \(evidence.outTradeNo)")) }
        guard let amount = Money(evidence.totalAmount), amount == payment.totalAmount else {
            return .refuse(PaymentRefusal("total_amount \(evidence.totalAmount) differs from the recorded \(payment.totalAmount.yuan)"))
        }
        if evidence.refundFee != nil, ["TRADE_SUCCESS", "TRADE_FINISHED", "TRADE_CLOSED"].contains(evidence.tradeStatus) {
            return .recordRefund(outRequestNo: evidence.outBizNo, refundFee: evidence.refundFee.flatMap(Money.init))
        }
        switch evidence.tradeStatus {
        case "TRADE_SUCCESS", "TRADE_FINISHED":
            switch payment.status {
            // A trade we closed that Alipay says is paid: the money is real, so it is settled, and
            // its closed order sends it back.
            case .unpaid, .closed:
                return .markPaid
            case .paid:
                let other = evidence.tradeNo.flatMap { theirs in payment.tradeNo.flatMap { theirs != $0 ? theirs : nil } }
                return .alreadyPaid(otherTradeNo: other)
            }
        case "WAIT_BUYER_PAY", "TRADE_CLOSED":
            return .record(evidence.tradeStatus)
        default:
            return .refuse(PaymentRefusal("unknown trade_status \(evidence.tradeStatus)"))
        }
    }
}
