/// Why a form body or query string was refused.
public struct FormBodyError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    init(_ d: String) { description = d }
}

/// `application/x-www-form-urlencoded` (Alipay's notify body, the return's query string), parsed
/// strictly: `+` is a space, `%XX` must be valid hex, the decoded bytes must be valid UTF-8,
/// and a key may appear once. Order of appearance is kept.
public enum FormBody {
    /// The most parameters accepted (Alipay sends about 25).
    public static let maxParameters = 200

    public static func parse<C: Collection>(_ bytes: C) throws(FormBodyError) -> [(String, String)] where C.Element == UInt8 {
        var pairs: [(String, String)] = []
        var seen = Set<String>()
        for field in bytes.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let parts = field.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            let key = try decode(parts[0])
            let value = parts.count == 2 ? try decode(parts[1]) : ""
            guard !key.isEmpty else { throw FormBodyError("empty parameter name") }
            guard seen.insert(key).inserted else { throw FormBodyError("parameter \(key) appears twice") }
            pairs.append((key, value))
            guard pairs.count <= maxParameters else { throw FormBodyError("too many parameters") }
        }
        return pairs
    }

    /// Percent-decodes one component (`+` → space) into UTF-8 text.
    public static func decode<C: Collection>(_ component: C) throws(FormBodyError) -> String where C.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity(component.count)
        var i = component.startIndex
        while i != component.endIndex {
            let b = component[i]
            if b == UInt8(ascii: "+") {
                out.append(UInt8(ascii: " "))
            } else if b == UInt8(ascii: "%") {
                let h = component.index(after: i)
                guard h != component.endIndex else { throw FormBodyError("truncated percent escape") }
                let l = component.index(after: h)
                guard l != component.endIndex, let hi = hex(component[h]), let lo = hex(component[l]) else {
                    throw FormBodyError("bad percent escape")
                }
                out.append(hi << 4 | lo)
                i = l
            } else {
                out.append(b)
            }
            i = component.index(after: i)
        }
        guard let text = String(validating: out, as: UTF8.self) else { throw FormBodyError("not UTF-8") }
        return text
    }

    /// Percent-encodes for a form value or query string (RFC 3986 unreserved kept).
    public static func encode(_ text: String) -> String {
        var out = ""
        for b in text.utf8 {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            default:
                let digits = Array("0123456789ABCDEF".utf8)
                out += "%" + String(decoding: [digits[Int(b >> 4)], digits[Int(b & 15)]], as: UTF8.self)
            }
        }
        return out
    }

    /// `k=v&...` with encoded keys and values.
    public static func encode(_ pairs: [(String, String)]) -> String {
        pairs.map { "\(encode($0.0))=\(encode($0.1))" }.joined(separator: "&")
    }

    private static func hex(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): b - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

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
