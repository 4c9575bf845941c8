import Logging
import Postgres
import ServiceLifecycle
import Synchronization

/// A permit taken in Redis, as written to `sms_seckill_win`.
package struct Win: Sendable {
    package let orderSn: String
    package let sessionID: Int64
    package let sku: Int64
    package let buyer: Int64
    package let count: Int

    package init(orderSn: String, sessionID: Int64, sku: Int64, buyer: Int64, count: Int) {
        self.orderSn = orderSn
        self.sessionID = sessionID
        self.sku = sku
        self.buyer = buyer
        self.count = count
    }
}

/// The ledger was shut down before the win could be written.
struct WinLedgerClosed: Error, CustomStringConvertible {
    var description: String { "the win ledger is shut down" }
}

/// Writes wins durably to `sms_seckill_win`, many per statement: the wins that arrive while one
/// write is in flight go out together in the next (one multi-row `INSERT`, one commit), so a crowd
/// of winners costs PostgreSQL a commit per batch instead of one per buyer. `record` returns only
/// once the commit holding its row is done, or throws (the caller then gives the permit back).
///
/// A `Service`: its `run` is the writer. Wins still waiting at shutdown are refused.
package final class WinLedger: Service, Sendable {
    private struct State {
        var pending: [(win: Win, continuation: CheckedContinuation<Void, any Error>)] = []
        var closed = false
    }
    private let state = Mutex(State())
    private let postgres: PostgresPool
    private let logger: Logger
    private let signal: AsyncStream<Void>
    private let trigger: AsyncStream<Void>.Continuation
    /// The most rows in one statement.
    let maxBatch: Int

    package init(postgres: PostgresPool, maxBatch: Int = 500, logger: Logger) {
        self.postgres = postgres
        self.maxBatch = maxBatch
        self.logger = logger
        (signal, trigger) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Returns once `win` is committed.
    package func record(_ win: Win) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let accepted = state.withLock { s -> Bool in
                if s.closed { return false }
                s.pending.append((win, continuation))
                return true
            }
            if accepted { trigger.yield() } else { continuation.resume(throwing: WinLedgerClosed()) }
        }
    }

    package func run() async throws {
        for await _ in signal.cancelOnGracefulShutdown() {
            while true {
                let batch = state.withLock { s -> [(win: Win, continuation: CheckedContinuation<Void, any Error>)] in
                    let batch = Array(s.pending.prefix(maxBatch))
                    s.pending.removeFirst(batch.count)
                    return batch
                }
                if batch.isEmpty { break }
                do {
                    try await write(batch.map(\.win))
                    for item in batch { item.continuation.resume() }
                } catch {
                    logger.error("seckill.win.batch_failed", metadata: ["seckill.wins": "\(batch.count)", "error": "\(error)"])
                    for item in batch { item.continuation.resume(throwing: error) }
                }
            }
        }
        let left = state.withLock { s in
            s.closed = true
            defer { s.pending.removeAll() }
            return s.pending
        }
        for item in left { item.continuation.resume(throwing: WinLedgerClosed()) }
    }

    /// One statement for the whole batch: the columns as arrays, unnested into rows.
    private func write(_ wins: [Win]) async throws {
        try await postgres.query("""
            INSERT INTO sms_seckill_win (order_sn, session_id, sku_id, user_id, count)
            SELECT * FROM unnest(\(wins.map(\.orderSn))::varchar[], \(wins.map(\.sessionID))::bigint[],
                                 \(wins.map(\.sku))::bigint[], \(wins.map(\.buyer))::bigint[], \(wins.map(\.count))::int[])
            """)
    }
}
