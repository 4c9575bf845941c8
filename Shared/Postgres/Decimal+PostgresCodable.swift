import Foundation

/// `numeric` travels as its exact decimal text; never through a floating-point type.
extension Decimal: PostgresEncodable, PostgresDecodable {
    public var postgresText: String { NSDecimalNumber(decimal: self).description(withLocale: Locale(identifier: "en_US_POSIX")) }
    public init(postgresText: String) throws {
        guard let v = Decimal(string: postgresText, locale: Locale(identifier: "en_US_POSIX")) else {
            throw PostgresError.decoding("not a numeric: \(postgresText)")
        }
        self = v
    }
}
