/// Every libpq failure, as one typed error.
public struct PostgresError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// The server could not be reached or the connection broke.
        case connection
        /// The server refused the statement; see `sqlState`.
        case server
        /// A result column did not hold the requested type.
        case decoding
        /// The pool was shut down.
        case poolClosed
        /// A parameter cannot be sent as given (a NUL character); nothing was sent.
        case invalidParameter
    }

    public let kind: Kind
    /// The five-character SQLSTATE for `.server` errors (e.g. `23505` unique violation).
    public let sqlState: String?
    public let message: String

    public init(kind: Kind, sqlState: String?, message: String) {
        self.kind = kind
        self.sqlState = sqlState
        self.message = message
    }

    public var description: String {
        "PostgresError(\(kind)\(sqlState.map { ", sqlstate=\($0)" } ?? "")): \(message)"
    }

    /// A unique constraint rejected the row.
    public var isUniqueViolation: Bool { sqlState == "23505" }
    /// A CHECK constraint rejected the row.
    public var isCheckViolation: Bool { sqlState == "23514" }
    /// Retry-worthy: serialization failure or deadlock.
    public var isSerializationFailure: Bool { sqlState == "40001" || sqlState == "40P01" }

    public static func decoding(_ message: String) -> PostgresError {
        PostgresError(kind: .decoding, sqlState: nil, message: message)
    }
}
