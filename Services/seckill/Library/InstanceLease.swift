import Foundation
import Logging
import Postgres
import ServiceKit
import ServiceLifecycle
import Synchronization

/// The instance id (0…1023) this process puts into its order numbers, held as a lease in
/// `sms_instance_lease`: taken at start (a free id, or one whose lease expired), renewed every
/// `ttl / 4` while the service runs, given back at shutdown. If a renewal finds the id taken by
/// another holder, or renewals fail until the lease could have expired, `current` is nil (no order
/// numbers: buyers hear "retry") until a new id is taken. A `Service`.
package final class InstanceLease: Service, Sendable {
    private struct Held {
        var instance: Int64
        /// Past this (local, monotonic), another process may have taken the id.
        var validUntil: ContinuousClock.Instant
    }

    private let postgres: PostgresPool
    private let holder = UUID()
    private let ttl: Duration
    private let logger: Logger
    private let held = Mutex<Held?>(nil)

    package init(postgres: PostgresPool, ttl: Duration = .seconds(60), logger: Logger) {
        self.postgres = postgres
        self.ttl = ttl
        self.logger = logger
    }

    /// The id to use now, or nil while none is held.
    package var current: Int64? {
        held.withLock { held in
            guard let h = held, ContinuousClock.now < h.validUntil else { return nil }
            return h.instance
        }
    }

    /// Takes a free id (one never taken, or whose lease expired). Throws when all 1,024 are held.
    @discardableResult
    package func acquire() async throws -> Int64 {
        let started = ContinuousClock.now
        for _ in 0..<16 {
            // Two processes picking the same free id: one inserts, the other's upsert finds a live
            // lease and returns nothing, and it tries another.
            let row = try await postgres.query("""
                INSERT INTO sms_instance_lease (instance, holder, expires_at)
                SELECT i, \(holder.uuidString)::uuid, now() + \(Self.seconds(ttl)) * interval '1 second'
                FROM generate_series(0, 1023) i
                WHERE NOT EXISTS (SELECT 1 FROM sms_instance_lease l WHERE l.instance = i AND l.expires_at > now())
                ORDER BY random() LIMIT 1
                ON CONFLICT (instance) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
                    WHERE sms_instance_lease.expires_at <= now()
                RETURNING instance
                """).first
            if let row {
                let instance: Int64 = try row.decode("instance")
                held.withLock { $0 = Held(instance: instance, validUntil: started + ttl - .seconds(5)) }
                logger.info("seckill.instance.leased", metadata: ["seckill.instance": "\(instance)"])
                return instance
            }
            let free: Int64 = try await postgres.query(
                "SELECT 1024 - count(*) AS n FROM sms_instance_lease WHERE expires_at > now()").first?.decode("n") ?? 0
            if free <= 0 { throw InstanceLeaseUnavailable() }
        }
        throw InstanceLeaseUnavailable()
    }

    /// Extends the lease; false when the id is no longer ours (then `current` is nil).
    @discardableResult
    package func renew() async throws -> Bool {
        guard let instance = held.withLock({ $0?.instance }) else { return false }
        let started = ContinuousClock.now
        let renewed = try await postgres.query("""
            UPDATE sms_instance_lease SET expires_at = now() + \(Self.seconds(ttl)) * interval '1 second'
            WHERE instance = \(instance) AND holder = \(holder.uuidString)::uuid
            RETURNING instance
            """).first != nil
        held.withLock { held in
            if renewed { held?.validUntil = started + ttl - .seconds(5) } else { held = nil }
        }
        if !renewed { logger.error("seckill.instance.lost", metadata: ["seckill.instance": "\(instance)"]) }
        return renewed
    }

    /// Gives the id back (at shutdown).
    package func release() async {
        guard let instance = held.withLock({ h -> Int64? in defer { h = nil }; return h?.instance }) else { return }
        _ = try? await postgres.query(
            "DELETE FROM sms_instance_lease WHERE instance = \(instance) AND holder = \(holder.uuidString)::uuid")
    }

    package func run() async throws {
        await Periodic.run(every: ttl / 4, startNow: false) {
            do {
                if try await !renew() { try await acquire() }
            } catch {
                logger.warning("seckill.instance.renew_failed", error: error)
            }
        }
        await release()
    }

    static func seconds(_ d: Duration) -> Int64 { max(1, d.components.seconds) }
}
