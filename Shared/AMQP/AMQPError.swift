/// Every librabbitmq failure, as one typed error.
public struct AMQPError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// Socket, login or protocol failure: the connection must be reopened.
        case connection
        /// The broker closed the channel or connection (e.g. unknown exchange, precondition failed).
        case broker
        /// The broker nacked a publish or returned it as unroutable.
        case notConfirmed
        /// No confirm arrived within the timeout.
        case timeout
    }

    public let kind: Kind
    public let message: String
    public var description: String { "AMQPError(\(kind)): \(message)" }
}
