/// Every hiredis failure, as one typed error.
public struct RedisError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// Could not connect, or the connection broke (I/O, EOF, protocol).
        case connection
        /// The server answered with an error reply (e.g. `NOSCRIPT`, `WRONGTYPE`).
        case server
        case poolClosed
    }

    public let kind: Kind
    public let message: String
    public var description: String { "RedisError(\(kind)): \(message)" }

    public init(kind: Kind, message: String) {
        self.kind = kind
        self.message = message
    }

    /// The server does not know the script's SHA1 (after `SCRIPT FLUSH` or a restart).
    public var isNoScript: Bool { kind == .server && message.hasPrefix("NOSCRIPT") }
}
