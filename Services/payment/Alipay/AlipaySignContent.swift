import Foundation
import Signing

/// Alipay's canonical "content to sign": parameters sorted by key (byte order), `k=v` joined
/// by `&`, raw values. Requests drop `sign` and empty values; notify/return verification drops
/// `sign` and `sign_type` and keeps everything else that was sent.
public enum AlipaySignContent {
    /// For signing a request (page pay, trade query).
    public static func request(_ parameters: [String: String]) -> String {
        join(parameters.filter { $0.key != "sign" && !$0.value.isEmpty })
    }

    /// For verifying a notify or a return: every parameter that came, but `sign` and `sign_type`.
    public static func notification(_ parameters: [(String, String)]) -> String {
        join(parameters.filter { $0.0 != "sign" && $0.0 != "sign_type" })
    }

    static func join<S: Sequence>(_ pairs: S) -> String where S.Element == (key: String, value: String) {
        join(pairs.map { ($0.key, $0.value) })
    }

    static func join(_ pairs: [(String, String)]) -> String {
        pairs.sorted { Array($0.0.utf8).lexicographicallyPrecedes(Array($1.0.utf8)) }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }
}

extension RSAPrivateKey {
    /// Returns `parameters` with `sign` added: RSA2 over the request sign content.
    public func signAlipayRequest(_ parameters: [String: String]) throws -> [String: String] {
        var signed = parameters
        signed["sign"] = try signRSA2(AlipaySignContent.request(parameters))
        return signed
    }
}

extension RSAPublicKey {
    /// Verifies a notify or return: `sign` over every parameter but `sign` and `sign_type`.
    public func verifyAlipayNotification(_ parameters: [(String, String)]) -> Bool {
        guard let sign = parameters.first(where: { $0.0 == "sign" })?.1 else { return false }
        return verifyRSA2(signature: sign, content: AlipaySignContent.notification(parameters))
    }
}
