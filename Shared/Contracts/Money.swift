import Foundation

/// An amount in yuan, exact: a `Decimal`, never a floating-point number. On the wire it is a
/// JSON string ("1999.90") so no JSON library can route it through `Double`.
package struct Money: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    package var amount: Decimal

    package init(_ amount: Decimal) { self.amount = amount }

    /// Parses plain decimal text ("1999.9", "0.01"); refuses exponents, signs other than '-', junk.
    package init?(_ text: String) {
        let t = text.trimmingCharacters(in: .whitespaces)
        var sawDigit = false, sawDot = false
        for (i, c) in t.enumerated() {
            if c.isASCII && c.isNumber { sawDigit = true; continue }
            if c == "." && !sawDot { sawDot = true; continue }
            if c == "-" && i == 0 { continue }
            return nil
        }
        guard sawDigit, let d = Decimal(string: t, locale: Locale(identifier: "en_US_POSIX")) else { return nil }
        amount = d
    }

    package static func < (a: Money, b: Money) -> Bool { a.amount < b.amount }

    /// Rounded half-up to `scale` decimals.
    package func rounded(scale: Int = 2) -> Money {
        var value = amount
        var result = Decimal()
        NSDecimalRound(&result, &value, scale, .plain)
        return Money(result)
    }

    /// Fixed two-decimal text, as Alipay's `total_amount` ("1999.90").
    package var yuan: String { fixed(scale: 2) }

    /// Fixed `scale`-decimal text.
    package func fixed(scale: Int) -> String {
        let r = rounded(scale: scale).amount
        let negative = r < 0
        let magnitude = negative ? -r : r
        var text = NSDecimalNumber(decimal: magnitude).description(withLocale: Locale(identifier: "en_US_POSIX"))
        if scale > 0 {
            if let dot = text.firstIndex(of: ".") {
                let decimals = text.distance(from: dot, to: text.endIndex) - 1
                text += String(repeating: "0", count: max(0, scale - decimals))
            } else {
                text += "." + String(repeating: "0", count: scale)
            }
        }
        return negative ? "-" + text : text
    }

    package var description: String { yuan }

    package init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let m = Money(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a decimal amount: \(text)")
        }
        self = m
    }

    package func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(fixed(scale: 2))
    }

    package static func + (a: Money, b: Money) -> Money { Money(a.amount + b.amount) }
    package static func * (a: Money, n: Int) -> Money { Money(a.amount * Decimal(n)) }
}
