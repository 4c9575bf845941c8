/// A SQL statement whose interpolated values become `$n` parameters, never SQL text.
///
///     let q: PostgresQuery = "SELECT * FROM payment_info WHERE out_trade_no = \(sn)"
///     // sql: "SELECT * FROM payment_info WHERE out_trade_no = $1", binds: [sn]
public struct PostgresQuery: Sendable, ExpressibleByStringInterpolation {
    /// The statement text with `$1 ... $n` placeholders.
    public private(set) var sql: String
    /// The parameters, in text format (`nil` is SQL NULL).
    public private(set) var binds: [String?]

    public init(stringLiteral value: String) {
        self.sql = value
        self.binds = []
    }

    public init(stringInterpolation: StringInterpolation) {
        self.sql = stringInterpolation.sql
        self.binds = stringInterpolation.binds
    }

    public struct StringInterpolation: StringInterpolationProtocol {
        var sql = ""
        var binds: [String?] = []

        public init(literalCapacity: Int, interpolationCount: Int) {
            sql.reserveCapacity(literalCapacity + interpolationCount * 3)
        }

        public mutating func appendLiteral(_ literal: String) { sql += literal }

        /// Binds a value as the next `$n` parameter.
        public mutating func appendInterpolation<T: PostgresEncodable>(_ value: T) {
            binds.append(value.postgresText)
            sql += "$\(binds.count)"
        }

        /// Binds an optional value; `nil` becomes SQL NULL.
        public mutating func appendInterpolation<T: PostgresEncodable>(_ value: T?) {
            binds.append(value?.postgresText)
            sql += "$\(binds.count)"
        }

        /// Inserts trusted SQL text (an identifier chosen by code, never user input).
        public mutating func appendInterpolation(unescaped text: String) { sql += text }

        /// Inserts another query as a part of this one (a shared statement inside a CTE): its
        /// `$n` placeholders are renumbered after this query's, its parameters appended. Its text
        /// must hold no `$` but its placeholders, as a query built by interpolation does (its
        /// `unescaped` parts are identifiers).
        public mutating func appendInterpolation(_ fragment: PostgresQuery) {
            let offset = binds.count
            var text = fragment.sql[...]
            while let dollar = text.firstIndex(of: "$") {
                sql += text[..<dollar]
                let digits = text[text.index(after: dollar)...].prefix { $0.isASCII && $0.isNumber }
                sql += "$" + (Int(digits).map { String($0 + offset) } ?? "")
                text = text[digits.endIndex...]
            }
            sql += text
            binds += fragment.binds
        }
    }
}
