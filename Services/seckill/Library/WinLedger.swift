import Logging
import Postgres
import ServiceKit
import ServiceLifecycle
import Synchronization

/// Writes wins durably to `sms_seckill_win`, many per statement: the wins that arrive while one
/// write is in flight go out together in the next (one multi-row `INSERT`, one commit), so a crowd
/// of winners costs PostgreSQL a commit per batch instead of one per buyer. `record` returns only
/// once the commit holding its row is done, or throws (the caller then gives the permit back): a
/// `WinRefusal` for its own win alone (a duplicate order number, a buyer past the limit), any other
/// error for the whole batch.
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

    /// `gmall_flash_sale_wins_recorded_total`.
    static let recorded = ShopMetrics.counter("gmall_flash_sale_wins_recorded_total", "Flash-sale wins committed to PostgreSQL (before the buyer hears of them).")

    package func run() async throws {
        _ = Self.recorded  // exists (at zero) from the start
        for await _ in signal.cancelOnGracefulShutdown() {
            while true {
                let batch = state.withLock { s -> [(win: Win, continuation: CheckedContinuation<Void, any Error>)] in
                    let batch = Array(s.pending.prefix(maxBatch))
                    s.pending.removeFirst(batch.count)
                    return batch
                }
                if batch.isEmpty { break }
                do {
                    let refused = try await write(batch.map(\.win))
                    Self.recorded.increment(by: Int64(batch.count - refused.count))
                    for item in batch {
                        if let refusal = refused[item.win.orderSn] {
                            item.continuation.resume(throwing: refusal)
                        } else {
                            item.continuation.resume()
                        }
                    }
                } catch {
                    logger.error("seckill.win.batch_failed", error: error, metadata: ["seckill.wins": "\(batch.count)"])
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

    /// One statement per round, one transaction for the batch: the columns as arrays, unnested into
    /// rows. A round holds at most one win per buyer and session, so the limit trigger of a later
    /// win sees the earlier one (rows of one statement do not see each other). Returns the wins
    /// that were not inserted, with the reason.
    private func write(_ wins: [Win]) async throws -> [String: WinRefusal] {
        var rounds: [[Win]] = []
        var roundOf: [String: Int] = [:]
        for win in wins {
            let buyer = "\(win.sessionID):\(win.buyer)"
            let round = roundOf[buyer, default: -1] + 1
            roundOf[buyer] = round
            if round == rounds.count { rounds.append([]) }
            rounds[round].append(win)
        }
        return try await postgres.withTransaction { connection in
            var inserted = Set<String>()
            for round in rounds {
                let rows = try await connection.query("""
                    INSERT INTO sms_seckill_win (order_sn, session_id, sku_id, user_id, count)
                    SELECT * FROM unnest(\(round.map(\.orderSn))::varchar[], \(round.map(\.sessionID))::bigint[],
                                         \(round.map(\.sku))::bigint[], \(round.map(\.buyer))::bigint[], \(round.map(\.count))::int[])
                    ON CONFLICT (order_sn) DO NOTHING
                    RETURNING order_sn
                    """).rows
                for row in rows { inserted.insert(try row.decode("order_sn")) }
            }
            var refused: [String: WinRefusal] = [:]
            for win in wins where !inserted.contains(win.orderSn) {
                // Over the buyer's limit, or else past the session's stock (the trigger's two checks).
                let row = try await connection.query("""
                    SELECT s.buyer_limit AS allowed,
                           (SELECT coalesce(sum(count), 0) FROM sms_seckill_win w
                            WHERE w.session_id = s.id AND w.user_id = \(win.buyer) AND NOT w.released) AS held
                    FROM sms_seckill_session s WHERE s.id = \(win.sessionID)
                    """).first
                let allowed: Int = try row?.decode("allowed") ?? 0
                let held: Int = try row?.decode("held") ?? 0
                refused[win.orderSn] = held + win.count > allowed ? .overBuyerLimit : .soldOut
            }
            if !refused.isEmpty {
                // Present although not inserted now: the number was taken before (or twice in this batch).
                let taken = try await connection.query("""
                    SELECT order_sn FROM sms_seckill_win WHERE order_sn = ANY(\(Array(refused.keys))::varchar[])
                    """).rows.map { try $0.decode("order_sn", as: String.self) }
                for orderSn in taken { refused[orderSn] = .duplicateOrderNumber }
            }
            return refused
        }
    }
}
