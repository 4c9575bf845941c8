import Foundation
import Hummingbird
import Signing
import Synchronization

/// Finds the logged-in buyer: an RS256 JWT in the `GMALL-TOKEN` cookie or an
/// `Authorization: Bearer` header, verified with the shop's public key. Verified tokens are
/// remembered until they expire (a crowd retries with the same token; the RSA check runs once).
package final class BuyerAuthenticator: Sendable {
    package let verifier: JWTVerifier
    private let verified = Mutex<[String: JWTClaims]>([:])
    private let capacity: Int

    package init(verifier: JWTVerifier, capacity: Int = 100_000) {
        self.verifier = verifier
        self.capacity = capacity
    }

    /// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive, spaces
    /// trimmed), or nil for another scheme. Byte-wise: this runs on every flash-sale request.
    package static func bearerToken(_ header: String) -> String? {
        let bytes = header.utf8
        guard bytes.count >= 7, bytes.prefix(6).elementsEqual("bearer".utf8, by: { $0 | 0x20 == $1 }),
              bytes.dropFirst(6).first == UInt8(ascii: " ")
        else { return nil }
        let isSpace = { (b: UInt8) in b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") }
        let token = bytes.dropFirst(7).drop(while: isSpace)
        let end = token.lastIndex(where: { !isSpace($0) }).map { bytes.index(after: $0) } ?? token.startIndex
        return String(Substring(header.utf8[token.startIndex..<end]))
    }

    /// The member id, or an HTTP 401 with the reason.
    package func buyer(of request: Request) throws -> Int64 {
        var token: String?
        if let header = request.headers[.authorization], let bearer = Self.bearerToken(header) {
            token = bearer
        } else if let cookie = request.cookies["GMALL-TOKEN"] {
            token = cookie.value
        }
        guard let token, !token.isEmpty else { throw HTTPError(.unauthorized, message: "login required") }
        let now = Date()
        if let claims = verified.withLock({ $0[token] }), claims.expiresAt.addingTimeInterval(verifier.leeway) > now {
            return claims.userID
        }
        do {
            let claims = try verifier.verify(token, now: now)
            verified.withLock { cache in
                if cache.count >= capacity { cache.removeAll(keepingCapacity: true) }
                cache[token] = claims
            }
            return claims.userID
        } catch {
            throw HTTPError(.unauthorized, message: "invalid token: \(error)")
        }
    }
}
