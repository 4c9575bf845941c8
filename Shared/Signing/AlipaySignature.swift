import Foundation

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

/// Alipay's `yyyy-MM-dd HH:mm:ss` in China time (UTC+8, no daylight saving).
public enum AlipayTime {
    public static func format(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 8 * 3600)!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(format: "%04d-%02d-%02d %02d:%02d:%02d", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
    }
}

/// A JSON string literal for `text` (quotes and escapes, `/` left as is), for building JSON whose
/// exact bytes are signed.
public func jsonStringLiteral(_ text: String) -> String {
    let data = try! JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes])
    return String(String(decoding: data, as: UTF8.self).dropFirst().dropLast())
}

/// A JSON object with members in the given order, as exact text (biz_content, gateway responses).
public func jsonObjectText(_ members: [(String, String)]) -> String {
    "{" + members.map { "\(jsonStringLiteral($0.0)):\(jsonStringLiteral($0.1))" }.joined(separator: ",") + "}"
}
