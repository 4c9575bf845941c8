import Dispatch

extension DispatchQueue {
    /// Runs `body` on this queue and hands its result (or error) back to the awaiting task.
    ///
    /// The Postgres, Redis and AMQP wrappers call blocking C libraries (libpq, hiredis,
    /// librabbitmq). A blocking call on a NIO event loop would stall every channel on that loop,
    /// and on the cooperative pool it would hold one of its few threads (one per core). So each
    /// connection owns one serial queue and runs all of its C calls there, one at a time: that also
    /// keeps the C handles, which are not thread-safe, to one thread at a time.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            self.async { continuation.resume(with: Result { try body() }) }
        }
    }
}
