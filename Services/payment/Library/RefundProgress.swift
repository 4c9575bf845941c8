import Alipay
import Contracts

/// What Alipay said to the step a refund is at.
package enum RefundAnswer: Sendable, Equatable {
    /// `alipay.trade.refund` answered 10000 (`fund_change` Y, or N for a repeat).
    case accepted
    /// `alipay.trade.refund` answered a business refusal (40004 and its sub_code).
    case refused(subCode: String, message: String)
    /// `fastpay.refund.query` found the refund: its amount and `refund_status` (absent means success).
    case found(amount: Money?, status: String?)
    /// `fastpay.refund.query` answered 10000 without refund data: not refunded (yet).
    case notFound
    /// Alipay could not be asked, was busy (20000, ACQ.SYSTEM_ERROR), or its answer did not verify.
    case unavailable(String)

    /// Reads an answer of the call the refund's state makes.
    package init(refundCall answer: AlipayAnswer) {
        if answer.succeeded {
            self = .accepted
        } else if answer.code == "40004", let subCode = answer.subCode, !Self.passing.contains(subCode) {
            self = .refused(subCode: subCode, message: answer.subMessage ?? "")
        } else {
            self = .unavailable("\(answer.code) \(answer.subCode ?? "-")")
        }
    }

    /// Refusals that pass by themselves (Alipay's own trouble, the merchant's balance topped up):
    /// tried again, never final.
    static let passing: Set<String> = ["ACQ.SYSTEM_ERROR", "ACQ.SELLER_BALANCE_NOT_ENOUGH"]

    package init(queryCall answer: AlipayAnswer) {
        if answer.succeeded {
            if let amount = answer["refund_amount"] {
                self = .found(amount: Money(amount), status: answer["refund_status"])
            } else {
                self = .notFound
            }
        } else if answer.code == "40004", let subCode = answer.subCode, !Self.passing.contains(subCode) {
            self = .refused(subCode: subCode, message: answer.subMessage ?? "")
        } else {
            self = .unavailable("\(answer.code) \(answer.subCode ?? "-")")
        }
    }
}

/// Where a refund goes next.
package struct RefundStep: Sendable, Equatable {
    package var state: RefundState
    /// When to look at it again; nil once it is final.
    package var retryAfter: Duration?
    package var error: String?
    /// Alipay's confirmed amount, once confirmed.
    package var refundedAmount: Money?
}

/// The refund state machine, pure: requested → (refund call) → sent → (query) → confirmed, with
/// everything but a refusal tried again after a growing wait. Money never waits for an operator:
/// only a refusal stops the retries, and only once the refund query agrees that nothing was
/// refunded (a retried request for a refund that did happen, its answer lost, is refused as
/// "trade closed" or "amount too high").
package enum RefundProgress {
    /// `last_error` of a refund Alipay refused, while the query checks that nothing was refunded.
    static let refusedPrefix = "refused, checking: "

    /// The longest wait between two tries.
    package static let longestWait = Duration.seconds(300)

    /// The wait before try number `attempts + 1`: `base` doubled each time, up to `longestWait`.
    package static func backoff(attempts: Int, base: Duration) -> Duration {
        var wait = base
        for _ in 0..<min(max(attempts, 0), 16) where wait < longestWait { wait = wait * 2 }
        return min(wait, longestWait)
    }

    package static func next(_ refund: RefundRecord, _ answer: RefundAnswer, base: Duration) -> RefundStep {
        let again = backoff(attempts: refund.attempts, base: base)
        switch (refund.state, answer) {
        case (.requested, .accepted):
            // Accepted is not yet confirmed: ask soon.
            return RefundStep(state: .sent, retryAfter: base)
        case (.requested, .refused(let subCode, let message)):
            // Ask the query before believing it: state sent, the refusal kept in `error`.
            return RefundStep(state: .sent, retryAfter: base, error: refusedPrefix + "\(subCode) \(message)")
        case (_, .refused(let subCode, let message)):
            return RefundStep(state: .refused, retryAfter: nil, error: "\(subCode) \(message)")
        case (.sent, .found(let amount?, let status)) where status == nil || status == "REFUND_SUCCESS" || status == "":
            guard amount == refund.amount else {
                return RefundStep(state: .refused, retryAfter: nil, error: "Alipay refunded \(amount.yuan), the request was \(refund.amount.yuan)")
            }
            return RefundStep(state: .confirmed, retryAfter: nil, refundedAmount: amount)
        case (.sent, .found):
            return RefundStep(state: .sent, retryAfter: again, error: "not confirmed yet")
        case (.sent, .notFound):
            if let refusal = refund.lastError, refusal.hasPrefix(refusedPrefix) {
                // Refused, and the query confirms nothing was refunded: final.
                return RefundStep(state: .refused, retryAfter: nil, error: String(refusal.dropFirst(refusedPrefix.count)))
            }
            // Alipay does not know it (yet): send it again; the same out_request_no refunds once.
            return RefundStep(state: .requested, retryAfter: again, error: "the refund query found no refund")
        case (let state, .unavailable(let why)):
            return RefundStep(state: state, retryAfter: again, error: why)
        case (let state, _):
            // An answer to the other call than the state makes (cannot happen): look again.
            return RefundStep(state: state, retryAfter: again, error: "unexpected answer \(answer) in state \(state)")
        }
    }
}
