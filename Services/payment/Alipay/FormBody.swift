/// `application/x-www-form-urlencoded` (Alipay's notify body, the return's query string), parsed
/// strictly: `+` is a space, `%XX` must be valid hex, the decoded bytes must be valid UTF-8,
/// and a key may appear once. Order of appearance is kept.
public enum FormBody {
    /// The most parameters accepted (Alipay sends about 25).
    public static let maxParameters = 200

    /// Takes the bytes as an array, not any `Collection`: a generic across the module boundary
    /// ran unspecialized, through witness tables for every byte (perf of payment under
    /// deploy/bench/cost: `ByteBufferView` subscripts and `split` among its top symbols).
    public static func parse(_ bytes: [UInt8]) throws(FormBodyError) -> [(String, String)] {
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
    public static func decode(_ component: ArraySlice<UInt8>) throws(FormBodyError) -> String {
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
