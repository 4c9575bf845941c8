import Foundation

/// JSON built as exact text, for the places where the bytes themselves are signed (`biz_content`,
/// the simulator's gateway responses): `JSONSerialization` neither keeps member order nor
/// promises the same bytes twice.
public enum AlipayJSONText {
    /// A JSON string literal for `text` (quotes and escapes, `/` left as is).
    public static func string(_ text: String) -> String {
        let data = try! JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes])
        return String(String(decoding: data, as: UTF8.self).dropFirst().dropLast())
    }

    /// A JSON object with members in the given order.
    public static func object(_ members: [(String, String)]) -> String {
        "{" + members.map { "\(string($0.0)):\(string($0.1))" }.joined(separator: ",") + "}"
    }
}
