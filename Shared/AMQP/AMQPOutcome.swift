/// What a handler decided about one delivery.
public enum AMQPOutcome: Sendable, Equatable {
    /// Done (committed); acknowledge.
    case ack
    /// Failed for a passing reason: tried again after the retry policy's delay; dead-lettered
    /// after its last attempt.
    case retry(reason: String)
    /// Can never succeed (malformed, invalid): straight to the dead-letter queue with the reason.
    case deadLetter(reason: String)
}
