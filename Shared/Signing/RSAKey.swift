import COpenSSL
import Foundation

/// Why a key or signature could not be used.
public struct SigningError: Error, CustomStringConvertible, Sendable, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "SigningError: \(message)" }
}

/// Owns one `EVP_PKEY*`; freed in `deinit`.
///
/// `@unchecked Sendable`: after parsing the key is never mutated, and OpenSSL 3 allows
/// concurrent signing/verifying with one `EVP_PKEY` (each operation uses its own `EVP_MD_CTX`).
final class PKeyHandle: @unchecked Sendable {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { EVP_PKEY_free(pointer) }
}

/// Turns PEM (any header) or bare base64 (as Alipay's console hands keys out) into DER bytes.
func derBytes(fromKeyText text: String) throws -> [UInt8] {
    let body = text
        .split(whereSeparator: \.isNewline)
        .filter { !$0.hasPrefix("-----") }
        .joined()
        .filter { !$0.isWhitespace }
    guard !body.isEmpty, let data = Data(base64Encoded: body) else { throw SigningError("key is not PEM or base64") }
    return Array(data)
}

/// An RSA private key: PKCS#8 or PKCS#1 (older Alipay tools), PEM or bare base64.
public struct RSAPrivateKey: Sendable {
    let key: PKeyHandle

    public init(text: String) throws {
        let der = try derBytes(fromKeyText: text)
        let parsed: OpaquePointer? = der.withUnsafeBufferPointer { buffer in
            var p: UnsafePointer<UInt8>? = buffer.baseAddress
            return d2i_AutoPrivateKey(nil, &p, buffer.count)
        }
        guard let parsed else { throw SigningError("not an RSA private key (PKCS#8 or PKCS#1)") }
        key = PKeyHandle(parsed)
        guard EVP_PKEY_get_base_id(parsed) == EVP_PKEY_RSA else { throw SigningError("private key is not RSA") }
        guard EVP_PKEY_get_bits(parsed) >= 2048 else { throw SigningError("RSA2 needs a key of at least 2048 bits") }
    }

    /// SHA256withRSA (PKCS#1 v1.5) over `message`.
    public func sign(_ message: [UInt8]) throws -> [UInt8] {
        guard let ctx = EVP_MD_CTX_new() else { throw SigningError("out of memory") }
        defer { EVP_MD_CTX_free(ctx) }
        guard EVP_DigestSignInit(ctx, nil, EVP_sha256(), nil, key.pointer) == 1 else { throw SigningError("sign init failed") }
        var length = 0
        guard message.withUnsafeBufferPointer({ EVP_DigestSign(ctx, nil, &length, $0.baseAddress, $0.count) }) == 1 else {
            throw SigningError("sign failed")
        }
        var signature = [UInt8](repeating: 0, count: length)
        let ok = message.withUnsafeBufferPointer { m in
            signature.withUnsafeMutableBufferPointer { s in EVP_DigestSign(ctx, s.baseAddress, &length, m.baseAddress, m.count) }
        }
        guard ok == 1 else { throw SigningError("sign failed") }
        return Array(signature.prefix(length))
    }

    /// RSA2 over the UTF-8 bytes of `content`, base64 as Alipay expects in `sign`.
    public func signRSA2(_ content: String) throws -> String {
        Data(try sign(Array(content.utf8))).base64EncodedString()
    }
}

/// An RSA public key: X.509 SubjectPublicKeyInfo, PEM or bare base64.
public struct RSAPublicKey: Sendable {
    let key: PKeyHandle

    public init(text: String) throws {
        let der = try derBytes(fromKeyText: text)
        let parsed: OpaquePointer? = der.withUnsafeBufferPointer { buffer in
            var p: UnsafePointer<UInt8>? = buffer.baseAddress
            return d2i_PUBKEY(nil, &p, buffer.count)
        }
        guard let parsed else { throw SigningError("not an X.509 SubjectPublicKeyInfo public key") }
        key = PKeyHandle(parsed)
        guard EVP_PKEY_get_base_id(parsed) == EVP_PKEY_RSA else { throw SigningError("public key is not RSA") }
    }

    /// True when `signature` is a valid SHA256withRSA signature of `message`.
    public func verify(_ signature: [UInt8], of message: [UInt8]) -> Bool {
        guard let ctx = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(ctx) }
        guard EVP_DigestVerifyInit(ctx, nil, EVP_sha256(), nil, key.pointer) == 1 else { return false }
        let ok = message.withUnsafeBufferPointer { m in
            signature.withUnsafeBufferPointer { s in EVP_DigestVerify(ctx, s.baseAddress, s.count, m.baseAddress, m.count) }
        }
        ERR_clear_error()
        return ok == 1
    }

    /// Verifies an RSA2 base64 `sign` over the UTF-8 bytes of `content`; bad base64 is just invalid.
    public func verifyRSA2(signature base64: String, content: String) -> Bool {
        guard !base64.isEmpty, let signature = Data(base64Encoded: base64) else { return false }
        return verify(Array(signature), of: Array(content.utf8))
    }
}
