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

    /// Who is logged in, and whether the token came from the cookie (the CSRF rule needs that);
    /// a 401 when nobody is.
    package func login(of request: Request) throws -> (buyer: Int64, fromCookie: Bool) {
        var token: String?
        var fromCookie = false
        if let header = request.headers[.authorization], let bearer = Self.bearerToken(header) {
            token = bearer
        } else if let cookie = request.cookies["GMALL-TOKEN"] {
            token = cookie.value
            fromCookie = true
        }
        guard let token, !token.isEmpty else { throw ShopError.unauthorized("login required") }
        let now = Date()
        if let claims = verified.withLock({ $0[token] }), claims.expiresAt.addingTimeInterval(verifier.leeway) > now {
            return (claims.userID, fromCookie)
        }
        do {
            let claims = try verifier.verify(token, now: now)
            verified.withLock { cache in
                if cache.count >= capacity { cache.removeAll(keepingCapacity: true) }
                cache[token] = claims
            }
            return (claims.userID, fromCookie)
        } catch {
            throw ShopError.unauthorized("invalid token")
        }
    }
}
