/// The documented limits of every input a client or another service can send (docs/OPERATIONS.md,
/// "Input limits"). Checked at the edge, before anything reaches a store.
package enum InputLimits {
    /// Units of one line (a lock line, a reservation, a flash-sale attempt).
    package static let count: ClosedRange<Int> = 1...10_000
    /// Units of a reservation (a flash-sale session's stock).
    package static let reservationCount: ClosedRange<Int> = 1...1_000_000
    /// Lines in one lock request.
    package static let items: ClosedRange<Int> = 1...100
    /// Orders in one batched call between services (flash-sale locks carved together).
    package static let batch: ClosedRange<Int> = 1...500
    /// Sku and member ids: positive and exact in a JavaScript number.
    package static let id: ClosedRange<Int64> = 1...9_007_199_254_740_991
    /// Order numbers: 1–64 of `[0-9A-Za-z_-]`.
    package static let orderNumberLength = 64
    /// Reservation keys: 1–64 of `[0-9A-Za-z:_-]`.
    package static let keyLength = 64
    /// Free text (a sku name): at most this many bytes of UTF-8, no control characters.
    package static let textLength = 200
    /// JSON nesting depth of a request body.
    package static let jsonDepth = 16
}

/// A request's input broke a documented limit (HTTP 400 with the reason).
package struct InputError: Error, CustomStringConvertible, Sendable, Equatable {
    package let description: String
    package init(_ description: String) { self.description = description }
}

/// The checks the limits name, each throwing the reason.
package enum Input {
    package static func count(_ n: Int, _ field: String, in range: ClosedRange<Int> = InputLimits.count) throws(InputError) {
        guard range.contains(n) else { throw InputError("\(field) must be within \(range.lowerBound)...\(range.upperBound)") }
    }

    package static func id(_ n: Int64, _ field: String) throws(InputError) {
        guard InputLimits.id.contains(n) else { throw InputError("\(field) must be within 1...\(InputLimits.id.upperBound)") }
    }

    /// An order number: 1–64 ASCII letters, digits, '_' and '-'.
    package static func orderNumber(_ text: some StringProtocol, _ field: String = "orderSn") throws(InputError) {
        guard isWord(text, max: InputLimits.orderNumberLength, extra: [UInt8(ascii: "_"), UInt8(ascii: "-")]) else {
            throw InputError("\(field) must be 1-\(InputLimits.orderNumberLength) letters, digits, '_' or '-'")
        }
    }

    /// A key: 1–64 ASCII letters, digits, ':', '_' and '-'.
    package static func key(_ text: some StringProtocol, _ field: String = "key") throws(InputError) {
        guard isWord(text, max: InputLimits.keyLength, extra: [UInt8(ascii: ":"), UInt8(ascii: "_"), UInt8(ascii: "-")]) else {
            throw InputError("\(field) must be 1-\(InputLimits.keyLength) letters, digits, ':', '_' or '-'")
        }
    }

    /// Free text: bounded, no NUL or other control characters.
    package static func text(_ text: String, _ field: String) throws(InputError) {
        guard text.utf8.count <= InputLimits.textLength else { throw InputError("\(field) is longer than \(InputLimits.textLength) bytes") }
        guard !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw InputError("\(field) holds control characters")
        }
    }

    /// The sum of `values`, refusing overflow instead of trapping.
    package static func sum(_ values: some Sequence<Int>, _ field: String) throws(InputError) -> Int {
        var total = 0
        for v in values {
            let (next, overflow) = total.addingReportingOverflow(v)
            guard !overflow else { throw InputError("\(field) overflows") }
            total = next
        }
        return total
    }

    static func isWord(_ text: some StringProtocol, max: Int, extra: Set<UInt8>) -> Bool {
        let bytes = text.utf8
        guard !bytes.isEmpty, bytes.count <= max else { return false }
        return bytes.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || extra.contains(b)
        }
    }
}
