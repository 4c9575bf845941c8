/// When the keeper next asks wms to release an ended session whose wins are not all orders yet.
/// It asks at once the first time, then after a wait that doubles from `shortest` to `longest`.
/// A wait is noted in the log only when it starts or when its count of wins changes.
/// Before this, each stuck session (a win whose order never came, such as a dead-lettered
/// `sec.kill`) cost a count, an HTTP call and a wms transaction every keeper tick (500 ms),
/// forever, and logged a line each time.
/// Pure: the keeper holds one and tells it what happened.
package struct ReleaseRetry: Sendable {
    package let shortest: Duration
    package let longest: Duration
    private var waiting: [Int64: (wins: Int, wait: Duration, next: ContinuousClock.Instant)] = [:]

    package init(shortest: Duration, longest: Duration = .seconds(30)) {
        self.shortest = shortest
        self.longest = max(shortest, longest)
    }

    /// Whether `session` is due for another try at `now`.
    package func isDue(_ session: Int64, now: ContinuousClock.Instant) -> Bool {
        waiting[session].map { now >= $0.next } ?? true
    }

    /// `session` still waits for `wins` orders; true when that is news worth a log line.
    package mutating func waits(_ session: Int64, wins: Int, now: ContinuousClock.Instant) -> Bool {
        guard let before = waiting[session] else {
            waiting[session] = (wins, shortest, now + shortest)
            return true
        }
        let wait = min(before.wait * 2, longest)
        waiting[session] = (wins, wait, now + wait)
        return before.wins != wins
    }

    /// `session` is released (or gone): forgotten.
    package mutating func released(_ session: Int64) { waiting[session] = nil }

    /// The sessions still waiting, for the keeper to drop those no longer active.
    package var sessions: [Int64] { Array(waiting.keys) }
}
