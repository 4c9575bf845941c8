/// One result row in text format, with its column names.
public struct PostgresRow: Sendable {
    let columns: [String]
    let values: [String?]

    /// The raw text of a column, `nil` for SQL NULL.
    public func text(_ column: String) throws -> String? {
        guard let i = columns.firstIndex(of: column) else {
            throw PostgresError.decoding("no column \(column) in \(columns)")
        }
        return values[i]
    }

    /// Decodes a non-null column.
    public func decode<T: PostgresDecodable>(_ column: String, as: T.Type = T.self) throws -> T {
        guard let raw = try text(column) else { throw PostgresError.decoding("column \(column) is NULL") }
        return try T(postgresText: raw)
    }

    /// Decodes a nullable column.
    public func decodeIfPresent<T: PostgresDecodable>(_ column: String, as: T.Type = T.self) throws -> T? {
        guard let raw = try text(column) else { return nil }
        return try T(postgresText: raw)
    }

    /// Decodes a column by position.
    public func decode<T: PostgresDecodable>(at index: Int, as: T.Type = T.self) throws -> T {
        guard index < values.count, let raw = values[index] else {
            throw PostgresError.decoding("column #\(index) is NULL or missing")
        }
        return try T(postgresText: raw)
    }
}
