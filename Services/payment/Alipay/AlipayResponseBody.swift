import Foundation

/// Alipay's gateway responses: `{"<method>_response": {...}, "sign": "..."}` where the signature
/// covers the raw JSON text of the response object, byte for byte.
public enum AlipayResponseBody {
    /// The raw text of the object under `key` and the `sign` string, or nil if the body is not
    /// of that shape. Scans JSON tokens without re-serialising anything.
    public static func signedText(in body: String, key: String) -> (text: String, sign: String?)? {
        let bytes = Array(body.utf8)
        guard let start = valueStart(of: key, in: bytes), start < bytes.count, bytes[start] == UInt8(ascii: "{") else { return nil }
        guard let end = matchingBrace(bytes, from: start) else { return nil }
        let text = String(decoding: bytes[start...end], as: UTF8.self)
        var sign: String?
        if let s = valueStart(of: "sign", in: bytes), s < bytes.count, bytes[s] == UInt8(ascii: "\"") {
            var j = s + 1
            var raw: [UInt8] = []
            while j < bytes.count, bytes[j] != UInt8(ascii: "\"") {
                if bytes[j] == UInt8(ascii: "\\"), j + 1 < bytes.count { j += 1 }  // base64 has no escapes but "\/"
                raw.append(bytes[j])
                j += 1
            }
            sign = String(decoding: raw, as: UTF8.self)
        }
        return (text, sign)
    }

    /// Index of the first byte of the value of top-level member `key`.
    private static func valueStart(of key: String, in bytes: [UInt8]) -> Int? {
        var depth = 0
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                guard let close = stringEnd(bytes, from: i) else { return nil }
                if depth == 1 {
                    let name = String(decoding: bytes[(i + 1)..<close], as: UTF8.self)
                    var j = close + 1
                    while j < bytes.count, bytes[j] == UInt8(ascii: " ") || bytes[j] == 10 || bytes[j] == 13 || bytes[j] == 9 { j += 1 }
                    if j < bytes.count, bytes[j] == UInt8(ascii: ":") {
                        j += 1
                        while j < bytes.count, bytes[j] == UInt8(ascii: " ") || bytes[j] == 10 || bytes[j] == 13 || bytes[j] == 9 { j += 1 }
                        if name == key { return j }
                    }
                }
                i = close + 1
                continue
            }
            if b == UInt8(ascii: "{") || b == UInt8(ascii: "[") { depth += 1 }
            if b == UInt8(ascii: "}") || b == UInt8(ascii: "]") { depth -= 1 }
            i += 1
        }
        return nil
    }

    private static func stringEnd(_ bytes: [UInt8], from open: Int) -> Int? {
        var j = open + 1
        while j < bytes.count {
            if bytes[j] == UInt8(ascii: "\\") { j += 2; continue }
            if bytes[j] == UInt8(ascii: "\"") { return j }
            j += 1
        }
        return nil
    }

    private static func matchingBrace(_ bytes: [UInt8], from start: Int) -> Int? {
        var depth = 0
        var i = start
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                guard let close = stringEnd(bytes, from: i) else { return nil }
                i = close + 1
                continue
            }
            if b == UInt8(ascii: "{") || b == UInt8(ascii: "[") { depth += 1 }
            if b == UInt8(ascii: "}") || b == UInt8(ascii: "]") {
                depth -= 1
                if depth == 0 { return i }
            }
            i += 1
        }
        return nil
    }
}
