/// A value in a queue's `x-arguments` or a message's headers.
public enum AMQPArgument: Sendable, Equatable {
    case string(String)
    case int(Int64)
}
