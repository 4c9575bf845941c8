/// What a buyer's attempt came to; each a distinct `ResponseVo` code.
package enum AttemptResult: Sendable, Equatable {
    case won(orderSn: String)
    case soldOut, alreadyBought, notStarted, ended, noSession
    case rateLimited(retryAfterMilliseconds: Int)
    case retry
    /// The session's code is missing or wrong (before the start nobody knows it).
    case wrongCode
    /// The proof-of-work is missing, forged, someone else's, expired, too weak or used.
    case challengeRefused(String)

    /// `ResponseVo.code`.
    package var code: Int {
        switch self {
        case .won: 0
        case .soldOut: 1001
        case .alreadyBought: 1002
        case .notStarted: 1003
        case .ended: 1004
        case .noSession: 1005
        case .retry: 1006
        case .rateLimited: 429
        case .wrongCode: 1008
        case .challengeRefused: 1009
        }
    }

    package var message: String {
        switch self {
        case .won: "success"
        case .soldOut: "sold out"
        case .alreadyBought: "already bought"
        case .notStarted: "not started"
        case .ended: "ended"
        case .noSession: "no flash sale for this sku"
        case .retry: "busy, please retry"
        case .rateLimited: "too many requests"
        case .wrongCode: "the session's code is missing or wrong"
        case .challengeRefused(let why): why
        }
    }
}

extension AttemptResult {
    /// The `result` label of `gmall_flash_sale_attempts_total`.
    package var metricLabel: String {
        switch self {
        case .won: "won"
        case .soldOut: "sold_out"
        case .alreadyBought: "already_bought"
        case .notStarted: "not_started"
        case .ended: "ended"
        case .noSession: "no_session"
        case .rateLimited: "rate_limited"
        case .retry: "retry"
        case .wrongCode: "wrong_code"
        case .challengeRefused: "challenge_refused"
        }
    }

    /// Every label, for counters that exist from the start.
    package static let metricLabels = ["won", "sold_out", "already_bought", "not_started", "ended", "no_session", "rate_limited", "retry", "wrong_code", "challenge_refused"]

    /// What the buyer hears when PostgreSQL refused the win Redis granted (the permit goes back).
    init(refusal: WinRefusal) {
        switch refusal {
        // Redis forgot this buyer's earlier win (a lost second); PostgreSQL remembers it.
        case .overBuyerLimit: self = .alreadyBought
        // Redis forgot wins and offered a permit the session no longer has: PostgreSQL counts
        // every win, so the buyer hears "sold out" now, never "success" and then nothing.
        case .soldOut: self = .soldOut
        // Two instances with one instance id: nothing the buyer did; trying again draws a new number.
        case .duplicateOrderNumber: self = .retry
        }
    }
}
