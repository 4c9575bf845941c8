import Contracts
import Foundation
import Hummingbird
import Redis
import ServiceKit
import Synchronization

/// The sessions not yet released, per sku, kept in memory (refreshed by the keeper each tick, added
/// to on open). A buy goes to the session its time falls in, chosen here: a sku without a session
/// is answered "no session" without asking Redis or PostgreSQL, so made-up sku ids cost nothing.
package final class SessionCalendar: Sendable {
    private let bySku = Mutex<[Int64: [FlashSaleSession]]>([:])
    package init() {}

    package func replace(with sessions: [FlashSaleSession]) {
        bySku.withLock { $0 = Dictionary(grouping: sessions, by: \.skuId) }
    }

    package func insert(_ session: FlashSaleSession) {
        bySku.withLock { all in
            var list = all[session.skuId, default: []].filter { $0.id != session.id }
            list.append(session)
            all[session.skuId] = list
        }
    }

    /// Every session it holds (not yet released), by start time.
    package func all() -> [FlashSaleSession] {
        bySku.withLock { $0.values.flatMap { $0 } }.sorted { ($0.startTime, $0.id) < ($1.startTime, $1.id) }
    }

    /// The running session at `now`; else the next to start (the answer is "not started"); else
    /// the last to end ("ended"); nil when the sku has none.
    package func session(for sku: Int64, at now: Date) -> FlashSaleSession? {
        guard let list = bySku.withLock({ $0[sku] }), !list.isEmpty else { return nil }
        if let running = list.first(where: { $0.startTime <= now && now < $0.endTime }) { return running }
        if let next = list.filter({ $0.startTime > now }).min(by: { $0.startTime < $1.startTime }) { return next }
        return list.max(by: { $0.endTime < $1.endTime })
    }
}
