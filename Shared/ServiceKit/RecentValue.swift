import Synchronization

/// A value computed at most once per `lifetime`; callers arriving while it is being computed wait
/// for that computation. A failed computation is not kept.
package final class RecentValue<Value: Sendable>: Sendable {
    private let lifetime: Duration
    private let last = Mutex<(at: ContinuousClock.Instant, task: Task<Value, any Error>)?>(nil)

    package init(for lifetime: Duration) { self.lifetime = lifetime }

    package func value(_ make: @escaping @Sendable () async throws -> Value) async throws -> Value {
        let now = ContinuousClock.now
        let task = last.withLock { last -> Task<Value, any Error> in
            if let last, now - last.at < lifetime { return last.task }
            let task = Task { try await make() }
            last = (now, task)
            return task
        }
        do {
            return try await task.value
        } catch {
            last.withLock { if $0?.task == task { $0 = nil } }
            throw error
        }
    }
}
