import Foundation

/// Alipay's yuan amounts ("12.30": digits, at most two decimals) as whole fen, so that refund
/// sums are exact (no binary floating point anywhere near money).
enum Cents {
    /// Alipay's ceiling for one trade: 100000000 yuan.
    static let maximum = 10_000_000_000

    /// `text` in fen, or nil unless it is digits with an optional `.` and one or two digits
    /// (no sign, no exponent, no spaces) and at most Alipay's ceiling.
    static func parse(_ text: String) -> Int? {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = parts[0]
        let fraction = parts.count > 1 ? parts[1] : ""
        // Nine digits hold the ceiling; the bound keeps the arithmetic far from overflow.
        guard (1...9).contains(whole.count), parts.count == 1 || (1...2).contains(fraction.count),
              whole.allSatisfy(\.isASCIIDigit), fraction.allSatisfy(\.isASCIIDigit),
              let yuan = Int(whole), let fen = Int(fraction.padding(toLength: 2, withPad: "0", startingAt: 0))
        else { return nil }
        let cents = yuan * 100 + fen
        return cents <= maximum ? cents : nil
    }

    /// Two-decimal text, as Alipay writes amounts ("0.00", "12.30").
    static func text(_ cents: Int) -> String {
        String(format: "%d.%02d", cents / 100, cents % 100)
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
