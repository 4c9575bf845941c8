/// How a consumer retries a delivery its handler could not settle: after each failed attempt the
/// message is parked in a retry queue of its own delay (`<queue>.retry.<ms>ms`: a queue TTL, no
/// consumer, dead-lettered through the default exchange straight back into `<queue>`), with the
/// attempt number in the `x-attempt` header. After `maxAttempts` it goes to the dead-letter
/// queue. Whether the broker marked a delivery `redelivered` plays no part.
public struct AMQPRetryPolicy: Sendable, Equatable {
    /// The delay before each retry, in milliseconds: `delays[0]` after the first attempt, and so on.
    public var delays: [Int]

    /// 1 s, 1 s, 5 s, 5 s, 30 s, 30 s, 60 s: eight attempts over about two minutes, enough for a
    /// database or broker restart and a deployment, short enough that a poison message reaches an
    /// operator soon.
    public static let standard = AMQPRetryPolicy(delays: [1000, 1000, 5000, 5000, 30000, 30000, 60000])

    public init(delays: [Int]) { self.delays = delays.filter { $0 > 0 } }

    /// Attempts before the dead-letter queue.
    public var maxAttempts: Int { delays.count + 1 }

    /// The retry queue after failed attempt `attempt` (1-based), or nil when it was the last.
    public func retryQueue(for queue: String, afterAttempt attempt: Int) -> String? {
        guard attempt >= 1, attempt <= delays.count else { return nil }
        return Self.retryQueueName(queue, delay: delays[attempt - 1])
    }

    static func retryQueueName(_ queue: String, delay: Int) -> String { "\(queue).retry.\(delay)ms" }

    /// The retry queues of `queue`, one per distinct delay.
    public func retryQueues(for queue: String) -> [AMQPTopology.Queue] {
        Set(delays).sorted().map { delay in
            AMQPTopology.Queue(
                name: Self.retryQueueName(queue, delay: delay),
                arguments: [
                    "x-message-ttl": .int(Int64(delay)),
                    "x-dead-letter-exchange": .string(""),
                    "x-dead-letter-routing-key": .string(queue),
                ],
                bindings: [])
        }
    }
}

extension AMQPDelivery {
    /// Which attempt this is (1 for the first delivery; `x-attempt` once retried).
    public var attempt: Int { headers["x-attempt"].flatMap { Int($0) }.map { max(1, $0) } ?? 1 }
}
