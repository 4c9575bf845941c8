import AMQP
import Contracts
import Foundation
import Logging
import Postgres
import ServiceLifecycle

/// Publishes unsent outbox rows in id order, with publisher confirms, and marks them sent.
/// A failed message is tried again next round, after later ones may have gone out.
/// Several instances share the table safely (`FOR UPDATE SKIP LOCKED`). A `Service`.
///
/// Wakes every `interval` (default 200 ms) or at once after `wake()`.
package final class OutboxRelay: Service, Sendable {
    private let postgres: PostgresPool
    private let publisher: AMQPPublisher
    private let logger: Logger
    private let wakeups: Wakeups

    package init(postgres: PostgresPool, publisher: AMQPPublisher, interval: Duration = .milliseconds(200), logger: Logger) {
        self.postgres = postgres
        self.publisher = publisher
        self.logger = logger
        wakeups = Wakeups(every: interval)
    }

    /// Asks the relay to look at the outbox now (after a commit that enqueued something).
    package func wake() { wakeups.wake() }

    package func run() async throws {
        var sampled = ContinuousClock.now - .seconds(60)
        await wakeups.run {
            do {
                // Until a batch comes back short: a row committed after its SELECT woke the relay
                // and gets the next round (an empty poll per round was a third of its statements).
                while try await relayBatch() == Self.batchSize {}
            } catch {
                logger.warning("outbox.relay.failed", error: error)
            }
            // The backlog's size and age for the metrics, every few seconds (not every round).
            if ContinuousClock.now - sampled > .seconds(5) {
                sampled = ContinuousClock.now
                try? await sampleBacklog()
            }
        }
    }

    /// `gmall_outbox_unsent` and `gmall_outbox_oldest_unsent_age_seconds`.
    func sampleBacklog() async throws {
        let row = try await postgres.query("""
            SELECT count(*) AS n, COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)) * 1000, 0)::bigint AS age_ms
            FROM outbox WHERE sent_at IS NULL
            """).rows[0]
        ShopMetrics.outboxUnsent.set(try row.decode("n", as: Int64.self))
        ShopMetrics.outboxOldestAge.set(Double(try row.decode("age_ms", as: Int64.self)) / 1000)
    }

    /// The most rows one batch publishes.
    static let batchSize = 100

    /// Publishes up to `batchSize` rows; returns how many were sent.
    @discardableResult
    package func relayBatch() async throws -> Int {
        try await postgres.withTransaction { connection in
            let rows = try await connection.query("""
                SELECT id, message_id, routing_key, payload, expiration, traceparent FROM outbox
                WHERE sent_at IS NULL ORDER BY id LIMIT \(Self.batchSize) FOR UPDATE SKIP LOCKED
                """).rows
            // `expiration` is only set on rows an older version wrote (per-message TTL close
            // timers, replaced by one delay queue per timeout); they still go out as written.
            let messages = try rows.map { row in
                let traceparent: String? = try row.decodeIfPresent("traceparent")
                return AMQPMessage(
                    exchange: Messaging.exchange, routingKey: try row.decode("routing_key"),
                    body: Array(try row.decode("payload", as: String.self).utf8), messageID: try row.decode("message_id"),
                    headers: traceparent.map { ["traceparent": $0] } ?? [:], expiration: try row.decodeIfPresent("expiration"))
            }
            // One pipelined batch, confirms awaited together; what was not confirmed stays unsent
            // for the next round (consumers are idempotent on the message id).
            var sent: [Int64] = []
            let errors = await publisher.publish(messages)
            for (row, (message, error)) in zip(rows, zip(messages, errors)) {
                if let error {
                    logger.warning("outbox.publish.failed", error: error, metadata: ["messaging.message.id": "\(message.messageID)"])
                    continue
                }
                sent.append(try row.decode("id"))
            }
            if !sent.isEmpty {
                // The time of the confirm, not of the batch's start (`now()`): what the relay's
                // latency is read from (`sent_at - created_at`).
                try await connection.query("UPDATE outbox SET sent_at = clock_timestamp() WHERE id = ANY(\(sent)::bigint[])")
            }
            return sent.count
        }
    }
}
