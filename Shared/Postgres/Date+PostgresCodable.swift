import Foundation

/// `timestamptz` in ISO form; connections run with `DateStyle=ISO` and `TimeZone=UTC`.
extension Date: PostgresEncodable, PostgresDecodable {
    public var postgresText: String {
        let micros = (timeIntervalSince1970 * 1_000_000).rounded()
        let seconds = Int64((micros / 1_000_000).rounded(.down))
        let fraction = Int64(micros) - seconds * 1_000_000
        let base = Date(timeIntervalSince1970: TimeInterval(seconds))
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: base)
        return String(
            format: "%04d-%02d-%02d %02d:%02d:%02d.%06lld+00", c.year!, c.month!, c.day!, c.hour!, c.minute!,
            c.second!, fraction)
    }

    public init(postgresText text: String) throws {
        // "2026-11-25 12:00:00.123456+00" (fraction and offset minutes optional)
        let bytes = Array(text.utf8)
        func number(_ from: Int, _ len: Int) throws -> Int {
            guard from + len <= bytes.count else { throw PostgresError.decoding("bad timestamp: \(text)") }
            var v = 0
            for b in bytes[from..<from + len] {
                guard b >= 48, b <= 57 else { throw PostgresError.decoding("bad timestamp: \(text)") }
                v = v * 10 + Int(b - 48)
            }
            return v
        }
        var c = DateComponents()
        c.year = try number(0, 4); c.month = try number(5, 2); c.day = try number(8, 2)
        c.hour = try number(11, 2); c.minute = try number(14, 2); c.second = try number(17, 2)
        var i = 19
        var micros = 0
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            var digits = 0
            while i < bytes.count, bytes[i] >= 48, bytes[i] <= 57 {
                if digits < 6 { micros = micros * 10 + Int(bytes[i] - 48); digits += 1 }
                i += 1
            }
            while digits < 6 { micros *= 10; digits += 1 }
        }
        var offsetSeconds = 0
        if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") {
            let sign = bytes[i] == UInt8(ascii: "-") ? -1 : 1
            let hours = try number(i + 1, 2)
            let minutes = (i + 4 <= bytes.count - 2 && bytes[i + 3] == UInt8(ascii: ":")) ? try number(i + 4, 2) : 0
            offsetSeconds = sign * (hours * 3600 + minutes * 60)
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        guard let date = calendar.date(from: c) else { throw PostgresError.decoding("bad timestamp: \(text)") }
        self = Date(timeIntervalSince1970: date.timeIntervalSince1970 - TimeInterval(offsetSeconds) + TimeInterval(micros) / 1_000_000)
    }
}
