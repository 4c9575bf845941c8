import Hummingbird
import Signing

/// Finds the logged-in buyer: an RS256 JWT in the `GMALL-TOKEN` cookie or an
/// `Authorization: Bearer` header, verified with the shop's public key.
package struct BuyerAuthenticator: Sendable {
    package let verifier: JWTVerifier
    package init(verifier: JWTVerifier) { self.verifier = verifier }

    /// The member id, or an HTTP 401 with the reason.
    package func buyer(of request: Request) throws -> Int64 {
        var token: String?
        if let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") {
            token = String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        } else if let cookie = request.cookies["GMALL-TOKEN"] {
            token = cookie.value
        }
        guard let token, !token.isEmpty else { throw HTTPError(.unauthorized, message: "login required") }
        do {
            return try verifier.verify(token).userID
        } catch {
            throw HTTPError(.unauthorized, message: "invalid token: \(error)")
        }
    }
}
