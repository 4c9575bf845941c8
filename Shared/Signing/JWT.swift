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

/// Base64url without padding (RFC 7515 §2), byte-wise: it runs on every token a buyer sends.
public enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    public static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var i = 0
        while i + 3 <= bytes.count {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], alphabet[Int(n & 63)]]
            i += 3
        }
        switch bytes.count - i {
        case 1:
            let n = UInt32(bytes[i]) << 16
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)]]
        case 2:
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)]]
        default: break
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes, or nil for anything but canonical unpadded base64url (a stray character, a
    /// length of 4n+1, or set bits left over after the last byte).
    public static func decode<S: StringProtocol>(_ text: S) -> Data? {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in text.utf8 {
            let value: UInt8
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = byte - UInt8(ascii: "A")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = byte - UInt8(ascii: "a") + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = byte - UInt8(ascii: "0") + 52
            case UInt8(ascii: "-"): value = 62
            case UInt8(ascii: "_"): value = 63
            default: return nil
            }
            accumulator = (accumulator << 6 | UInt32(value)) & 0xFFFFFF
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        guard bits < 6, accumulator & ((1 << UInt32(bits)) - 1) == 0 else { return nil }
        return Data(out)
    }
}
