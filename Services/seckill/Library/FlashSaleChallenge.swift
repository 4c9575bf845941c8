import Contracts
import Foundation
import Signing

/// The proof-of-work a buy carries when its session asks for one: the buyer fetches a nonce
/// (`GET /miaosha/challenge`), bound by an HMAC to the buyer, the session and an expiry, and
/// finds an answer whose `SHA-256("<nonce>:<code>:<answer>")` starts with the session's number
/// of zero bits. The session's code is part of the input and is revealed only at the start, so
/// nobody can solve ahead: the crowd's buys spread over the solving time (about half a second in
/// a browser at 18 bits). Checking costs one HMAC and one hash, before Redis; a nonce is good for
/// one buy (the take script records it).
package struct FlashSaleChallenge: Sendable {
    /// Signs nonces; one key for every instance (the service key, under its own label).
    let key: [UInt8]
    /// How long a nonce is good for.
    let lifetime: TimeInterval

    package init(key: [UInt8], lifetime: TimeInterval) {
        self.key = key
        self.lifetime = lifetime
    }

    /// Why a buy's proof was refused.
    package enum Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        case malformed, forged, otherBuyer, otherSession, expired, tooWeak
        package var description: String {
            switch self {
            case .malformed: "the challenge answer is missing or malformed"
            case .forged: "the challenge nonce was not issued here"
            case .otherBuyer: "the challenge was issued to another buyer"
            case .otherSession: "the challenge was issued for another session"
            case .expired: "the challenge expired: fetch a new one"
            case .tooWeak: "the answer does not solve the challenge"
            }
        }
    }

    /// A nonce for `buyer` in `session`: `c1.<session>.<buyer>.<expiry ms>.<random>.<mac>`.
    package func nonce(buyer: Int64, session: Int64, now: Date = Date()) -> String {
        let random = (0..<8).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        let claim = "c1.\(session).\(buyer).\(Int64((now.timeIntervalSince1970 + lifetime) * 1000)).\(random)"
        return claim + "." + Base64URL.encode(HMACSHA256.mac(key: key, message: Array(claim.utf8)))
    }

    /// A verified nonce: its random part (to mark it used) and its expiry.
    package struct Spent: Sendable, Equatable {
        package let random: String
        package let expiresAt: Date
        /// How long its used-marker must live: until the nonce expires, and a minute for clocks
        /// that differ between instances.
        package func markerMilliseconds(now: Date) -> Int { max(1000, Int((expiresAt.timeIntervalSince(now) + 60) * 1000)) }
    }

    /// Checks `answer` to `nonce` for `buyer` in `session` (whose code and bits are given).
    package func verify(nonce: String, answer: String, buyer: Int64, session: Int64, code: String?, bits: Int, now: Date = Date()) throws(Refusal) -> Spent {
        guard nonce.utf8.count <= 160, !answer.isEmpty, answer.utf8.count <= 32 else { throw .malformed }
        let parts = nonce.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "c1", let issuedSession = Int64(parts[1]), let issuedBuyer = Int64(parts[2]),
              let expires = Int64(parts[3])
        else { throw .malformed }
        let claim = parts[0...4].joined(separator: ".")
        let expected = Base64URL.encode(HMACSHA256.mac(key: key, message: Array(claim.utf8)))
        guard ConstantTime.equals(Array(parts[5].utf8), Array(expected.utf8)) else { throw .forged }
        guard issuedBuyer == buyer else { throw .otherBuyer }
        guard issuedSession == session else { throw .otherSession }
        guard Double(expires) / 1000 > now.timeIntervalSince1970 else { throw .expired }
        let digest = SHA256.digest(Array("\(nonce):\(code ?? ""):\(answer)".utf8))
        guard SHA256.leadingZeroBits(digest) >= bits else { throw .tooWeak }
        return Spent(random: String(parts[4]), expiresAt: Date(timeIntervalSince1970: Double(expires) / 1000))
    }
}
