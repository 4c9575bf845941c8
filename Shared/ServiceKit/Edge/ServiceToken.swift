import Foundation
import Signing
import Synchronization

/// A short-lived token one service presents to another in `X-Service-Token`:
/// `svc1.<caller>.<callee>.<expires, unix seconds>.<base64url HMAC-SHA256 of what precedes it>`,
/// under the suite's shared service key (`GMALL_SERVICE_KEY` / `_FILE`). A token names its caller,
/// so a callee admits only the callers it serves, and its callee, so a token sent to one service
/// is refused by every other; a leaked token is worthless after two minutes.
package enum ServiceToken {
    package static let header = "X-Service-Token"
    package static let lifetime: TimeInterval = 120
    /// Keys shorter than this are refused (a guessable key would make every token forgeable).
    package static let minimumKeyBytes = 32

    package static func mint(caller: String, callee: String, key: [UInt8], now: Date = Date()) -> String {
        let claim = "svc1.\(caller).\(callee).\(Int64(now.timeIntervalSince1970 + lifetime))"
        return claim + "." + Base64URL.encode(HMACSHA256.mac(key: key, message: Array(claim.utf8)))
    }

    /// The caller named by a valid, unexpired `token` addressed to `callee`, or nil.
    package static func caller(of token: String, to callee: String, key: [UInt8], now: Date = Date()) -> String? {
        guard token.utf8.count <= 256 else { return nil }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "svc1", let expires = Int64(parts[3]) else { return nil }
        let claim = token.utf8.prefix(token.utf8.count - parts[4].utf8.count - 1)
        let expected = Base64URL.encode(HMACSHA256.mac(key: key, message: Array(claim)))
        guard ConstantTime.equals(Array(parts[4].utf8), Array(expected.utf8)) else { return nil }
        guard parts[2] == callee else { return nil }
        // Checked after the MAC, so a forged token learns nothing from which check failed.
        guard Double(expires) >= now.timeIntervalSince1970, Double(expires) <= now.timeIntervalSince1970 + 2 * lifetime else { return nil }
        return String(parts[1])
    }
}
