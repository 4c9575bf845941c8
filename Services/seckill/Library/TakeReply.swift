import Contracts
import Redis

/// The take script's answer: `{code, session id or retry-after ms}` and the price on a win.
/// Decoding and deciding what the buyer hears are pure, so the decision table is tested without Redis.
struct TakeReply: Sendable, Equatable {
    /// The script's first element (`FlashSaleScripts.take` returns exactly these).
    enum Code: Int64, Sendable, CaseIterable {
        case won = 1
        case soldOut = 0
        case overLimit = -1
        case notStarted = -2
        case ended = -3
        /// Redis holds no such session (never loaded, or lost with Redis): load it and take again.
        case notLoaded = -4
        case rateLimited = -5
        /// The challenge nonce answered a buy before.
        case challengeReused = -6
    }

    var code: Code
    /// The session id, or for `rateLimited` the milliseconds until the bucket has a token.
    var value: Int64
    /// The session price, with a win (preloaded with the session).
    var price: Money?

    init(code: Code, value: Int64, price: Money? = nil) {
        self.code = code
        self.value = value
        self.price = price
    }

    init(_ reply: RESPValue) throws {
        guard let parts = reply.array, parts.count >= 2, let raw = parts[0].int, let code = Code(rawValue: raw) else {
            throw RedisError(kind: .server, message: "unexpected take reply \(reply)")
        }
        self.init(code: code, value: parts[1].int ?? 0, price: parts.count > 2 ? parts[2].string.flatMap(Money.init) : nil)
    }

    /// What the buyer hears when this take ends the attempt; nil when the attempt goes on (a win
    /// to record, or a session to load first).
    var answer: AttemptResult? {
        switch code {
        case .won, .notLoaded: nil
        case .soldOut: .soldOut
        case .overLimit: .alreadyBought
        case .notStarted: .notStarted
        case .ended: .ended
        case .rateLimited: .rateLimited(retryAfterMilliseconds: Int(value))
        case .challengeReused: .challengeRefused("the challenge was already used: fetch a new one")
        }
    }
}
