import Contracts
import Foundation
import Logging
import Postgres
import Redis
import ServiceKit
import ServiceLifecycle
import Synchronization

/// Keeps Redis and wms in step with the sessions: reloads a session Redis lost (never from the
/// original stock: from the wins), finishes an interrupted reservation, and releases ended
/// sessions' unsold stock. A `Service`; safe with several instances (every step is idempotent).
package final class SessionKeeper: Service, Sendable {
    let store: SessionStore
    let calendar: SessionCalendar
    let interval: Duration
    let reconcileInterval: Duration
    let logger: Logger
    /// Redis's run id at the last reconcile, and when that was: a new run id (Redis restarted,
    /// perhaps without its last second) reconciles at once.
    private let lastReconcile = Mutex<(runID: String?, at: ContinuousClock.Instant)?>(nil)
    /// Ended sessions still waiting for their wins' orders, tried again less and less often.
    private let releaseRetry: Mutex<ReleaseRetry>

    package init(store: SessionStore, calendar: SessionCalendar, interval: Duration, reconcileInterval: Duration, logger: Logger) {
        self.store = store
        self.calendar = calendar
        self.interval = interval
        self.reconcileInterval = reconcileInterval
        self.logger = logger
        releaseRetry = Mutex(ReleaseRetry(shortest: interval))
    }

    package func run() async throws {
        await Periodic.run(every: interval) {
            do { try await tick() } catch { logger.warning("seckill.keeper.failed", error: error) }
        }
    }

    package func tick() async throws {
        let now = Date()
        let sessions = try await store.active()
        calendar.replace(with: sessions)
        // Released by another instance meanwhile: no longer waited for here.
        let active = Set(sessions.map(\.id))
        releaseRetry.withLock { retry in
            for session in retry.sessions where !active.contains(session) { retry.released(session) }
        }
        let reconcile = try await reconcileDue()
        // A tick can be long (a wms that does not answer costs each session its timeout): it
        // stops at shutdown rather than holding the process up.
        // Running and coming sessions first: a release waits on wms, and must not hold back the
        // loading and reconciling of the sessions buyers are in.
        let ended = { (session: FlashSaleSession) in session.endTime <= now.addingTimeInterval(-2) }
        for session in sessions.filter({ !ended($0) }) + sessions.filter(ended) where !Periodic.stopping {
            // Each session on its own: one that cannot be reserved or released (wms refused it)
            // must not stop the others from being loaded, reconciled and released.
            do {
                if ended(session) {
                    try await release(session)
                } else {
                    try await store.ensureReady(session)
                    if reconcile && session.startTime <= now { try await store.reconcile(session) }
                }
            } catch {
                logger.warning("seckill.keeper.session_failed", error: error, metadata: ["seckill.session": "\(session.id)"])
            }
        }
    }

    /// Releases an ended session when its retry is due; a wait is logged when it starts or changes.
    private func release(_ session: FlashSaleSession) async throws {
        guard releaseRetry.withLock({ $0.isDue(session.id, now: .now) }) else { return }
        guard let wins = try await store.release(session) else {
            releaseRetry.withLock { $0.released(session.id) }
            return
        }
        if releaseRetry.withLock({ $0.waits(session.id, wins: wins, now: .now) }) {
            logger.info("seckill.session.release_waits", metadata: ["seckill.session": "\(session.id)", "seckill.wins": "\(wins)"])
        }
    }

    private func reconcileDue() async throws -> Bool {
        let info = try await store.redis.send(["INFO", "server"]).string ?? ""
        let runID = info.split(whereSeparator: \.isNewline).first { $0.hasPrefix("run_id:") }.map { String($0.dropFirst(7)) }
        let now = ContinuousClock.now
        return lastReconcile.withLock { last in
            let due = last == nil || last?.runID != runID || now - last!.at >= reconcileInterval
            if due { last = (runID, now) }
            return due
        }
    }
}
