import ServiceLifecycle

/// When a background loop looks for work: every `interval`, and at once after `wake()` (after a
/// commit that made work). Wakes that come while the loop works collapse into one more round.
package struct Wakeups: Sendable {
    private let signal: AsyncStream<Void>
    private let trigger: AsyncStream<Void>.Continuation
    package let interval: Duration

    package init(every interval: Duration) {
        self.interval = interval
        (signal, trigger) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    package func wake() { trigger.yield() }

    /// Runs `round` at each wake-up until graceful shutdown.
    package func run(_ round: () async -> Void) async {
        let ticker = Task { [trigger, interval] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                trigger.yield()
            }
        }
        defer { ticker.cancel() }
        for await _ in signal.cancelOnGracefulShutdown() { await round() }
        trigger.finish()
    }
}
