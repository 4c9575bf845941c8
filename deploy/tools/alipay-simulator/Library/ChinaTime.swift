import Alipay
import Foundation

/// Reading Alipay's `yyyy-MM-dd HH:mm:ss` (China time, UTC+8, as `AlipayTime` writes it) and
/// writing the notify's millisecond variant `yyyy-MM-dd HH:mm:ss.SSS` (`gmt_refund`).
enum ChinaTime {
    /// The instant `text` names, or nil unless it is exactly `AlipayTime`'s shape and a real
    /// date and time (the round trip refuses 2026-02-30 and 24:00:00).
    static func parse(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        let separators: [Int: UInt8] = [4: UInt8(ascii: "-"), 7: UInt8(ascii: "-"), 10: UInt8(ascii: " "), 13: UInt8(ascii: ":"), 16: UInt8(ascii: ":")]
        guard bytes.count == 19 else { return nil }
        for (i, b) in bytes.enumerated() {
            if let separator = separators[i] {
                guard b == separator else { return nil }
            } else if !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) {
                return nil
            }
        }
        func number(_ from: Int, _ count: Int) -> Int {
            bytes[from..<(from + count)].reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        }
        guard let zone = TimeZone(secondsFromGMT: 8 * 3600) else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let components = DateComponents(
            year: number(0, 4), month: number(5, 2), day: number(8, 2), hour: number(11, 2), minute: number(14, 2), second: number(17, 2))
        guard let date = calendar.date(from: components), AlipayTime.format(date) == text else { return nil }
        return date
    }

    /// `yyyy-MM-dd HH:mm:ss.SSS` in China time.
    static func formatMilliseconds(_ date: Date) -> String {
        // Format the whole second separately so the seconds and the milliseconds come from
        // the same truncation (a calendar may round a fractional second).
        let milliseconds = Int((date.timeIntervalSince1970 * 1000).rounded(.down))
        let second = Date(timeIntervalSince1970: TimeInterval(milliseconds.floorDivided(by: 1000)))
        return AlipayTime.format(second) + String(format: ".%03d", milliseconds - milliseconds.floorDivided(by: 1000) * 1000)
    }
}

extension Int {
    fileprivate func floorDivided(by d: Int) -> Int {
        let q = self / d
        return (self % d != 0 && (self < 0) != (d < 0)) ? q - 1 : q
    }
}
