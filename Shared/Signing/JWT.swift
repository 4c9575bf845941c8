import Foundation

/// The claims this suite reads from a buyer's token.
public struct JWTClaims: Sendable, Equatable {
    /// The member id (`sub`).
    public let userID: Int64
    public let expiresAt: Date
    public let issuedAt: Date?
}

/// Why a token was refused.
public enum JWTError: Error, Sendable, Equatable {
    case malformed(String)
    case algorithmNotAllowed(String)
    case badSignature
    case expired
}

/// RS256 JSON Web Tokens: verification pinned to RS256 (`none` and `HS*` refused) with `exp`
/// checked, and minting for local logins.
public struct JWTVerifier: Sendable {
    private let publicKey: RSAPublicKey
    /// Allowed clock skew in seconds.
    public var leeway: TimeInterval = 30

    public init(publicKey: RSAPublicKey) { self.publicKey = publicKey }

    public func verify(_ token: String, now: Date = Date()) throws(JWTError) -> JWTClaims {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, token.utf8.count <= 8192 else { throw .malformed("a JWT has three parts") }
        guard let headerData = Base64URL.decode(parts[0]),
            let header = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any]
        else { throw .malformed("header is not base64url JSON") }
        guard let alg = header["alg"] as? String else { throw .malformed("header has no alg") }
        guard alg == "RS256" else { throw .algorithmNotAllowed(alg) }
        guard let signature = Base64URL.decode(parts[2]), !signature.isEmpty else { throw .badSignature }
        let signingInput = Array("\(parts[0]).\(parts[1])".utf8)
        guard publicKey.verify(Array(signature), of: signingInput) else { throw .badSignature }
        guard let payloadData = Base64URL.decode(parts[1]),
            let payload = try? JSONSerialization.jsonObject(with: payloadData) as? [String: Any]
        else { throw .malformed("payload is not base64url JSON") }
        guard let exp = (payload["exp"] as? NSNumber)?.doubleValue else { throw .malformed("no exp") }
        guard exp + leeway > now.timeIntervalSince1970 else { throw .expired }
        let sub: Int64?
        if let s = payload["sub"] as? String { sub = Int64(s) } else { sub = (payload["sub"] as? NSNumber)?.int64Value }
        guard let userID = sub, userID > 0 else { throw .malformed("sub is not a member id") }
        let iat = (payload["iat"] as? NSNumber).map { Date(timeIntervalSince1970: $0.doubleValue) }
        return JWTClaims(userID: userID, expiresAt: Date(timeIntervalSince1970: exp), issuedAt: iat)
    }
}

/// Mints RS256 tokens (the local cluster's login, tests and benchmarks).
public struct JWTSigner: Sendable {
    private let privateKey: RSAPrivateKey
    public init(privateKey: RSAPrivateKey) { self.privateKey = privateKey }

    public func token(userID: Int64, validFor seconds: TimeInterval = 3600, now: Date = Date()) throws -> String {
        let header = Base64URL.encode(Array(#"{"alg":"RS256","typ":"JWT"}"#.utf8))
        let iat = Int64(now.timeIntervalSince1970)
        let payload = Base64URL.encode(Array(#"{"sub":"\#(userID)","iat":\#(iat),"exp":\#(iat + Int64(seconds))}"#.utf8))
        let signature = try privateKey.sign(Array("\(header).\(payload)".utf8))
        return "\(header).\(payload).\(Base64URL.encode(signature))"
    }
}

/// base64url without padding (RFC 7515).
public enum Base64URL {
    public static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    public static func decode<S: StringProtocol>(_ text: S) -> Data? {
        guard text.allSatisfy({ $0.isLetter && $0.isASCII || $0.isNumber && $0.isASCII || $0 == "-" || $0 == "_" }) else { return nil }
        var s = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while s.count % 4 != 0 { s += "=" }
        return Data(base64Encoded: s)
    }
}
