/// How a consumer settled a delivery (for its metrics): acked, parked for a retry, or dead-lettered.
public enum AMQPSettlement: String, Sendable, CaseIterable {
    case ack
    case retry
    case deadLetter = "dead_letter"
}
