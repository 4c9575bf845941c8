import ServiceKit
import ServiceLifecycle
import Synchronization
import Testing

@Suite("Background loops end when their task is cancelled, not only on graceful shutdown")
struct PeriodicTests {
    @Test("a cancelled loop stops at once and does no more work (the keeper's loop spun at 100 % CPU)", .timeLimit(.minutes(1)))
    func cancelledLoopStops() async throws {
        let rounds = Rounds()
        let loop = Task { await Periodic.run(every: .milliseconds(20)) { rounds.count.add(1, ordering: .relaxed) } }
        try await Task.sleep(for: .milliseconds(100))
        loop.cancel()
        let ended = Atomic<Bool>(false)
        Task {
            await loop.value
            ended.store(true, ordering: .relaxed)
        }
        for _ in 0..<200 where !ended.load(ordering: .relaxed) { try await Task.sleep(for: .milliseconds(10)) }
        let stopped = ended.load(ordering: .relaxed)
        try #require(stopped, "the loop did not end within 2 s of its task being cancelled")
        let after = rounds.count.load(ordering: .relaxed)
        try await Task.sleep(for: .milliseconds(100))
        let later = rounds.count.load(ordering: .relaxed)
        #expect(later == after, "work went on after the loop ended")
        #expect(after < 20, "\(after) rounds in 100 ms at a 20 ms interval: the pauses were skipped")
    }

    @Test("the first round runs at once, or after one pause with startNow false")
    func firstRound() async throws {
        let rounds = Rounds()
        let later = Task { await Periodic.run(every: .seconds(10), startNow: false) { rounds.count.add(1, ordering: .relaxed) } }
        try await Task.sleep(for: .milliseconds(50))
        let none = rounds.count.load(ordering: .relaxed)
        #expect(none == 0)
        later.cancel()
        await later.value
        let now = Task { await Periodic.run(every: .seconds(10)) { rounds.count.add(1, ordering: .relaxed) } }
        try await Task.sleep(for: .milliseconds(50))
        let one = rounds.count.load(ordering: .relaxed)
        #expect(one == 1)
        now.cancel()
        await now.value
    }
}

/// A counter the loop's work and the test share.
final class Rounds: Sendable {
    let count = Atomic<Int>(0)
}
