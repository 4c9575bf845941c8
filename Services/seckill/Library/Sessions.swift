import Contracts
import Foundation
import Logging
import Postgres
import Redis
import ServiceKit
import ServiceLifecycle

/// A flash-sale session as stored in `guli_sms`.
package struct FlashSaleSession: Codable, Sendable, Equatable {
    package var id: Int64
    package var skuId: Int64
    package var skuName: String
    package var price: Money
    package var stock: Int
    package var limit: Int
    package var startTime: Date
    package var endTime: Date
    package var reserved: Bool
    package var released: Bool
    /// Permits left in Redis (listing only).
    package var permitsLeft: Int?

    package var reservationKey: String { "seckill-session:\(id)" }
}

/// `POST /seckill/admin/sessions` body.
package struct OpenSessionRequest: Codable, Sendable {
    package var skuId: Int64
    package var skuName: String?
    package var price: Money
    package var stock: Int
    package var startTime: Date
    package var endTime: Date
    package var limit: Int?
}

extension OpenSessionRequest {
    /// The documented limits (`InputLimits`): a price of 0.01…1,000,000.00 yuan in cents.
    func validate() throws(InputError) {
        try Input.id(skuId, "skuId")
        try Input.count(stock, "stock", in: InputLimits.reservationCount)
        try Input.count(limit ?? 1, "limit")
        if let skuName { try Input.text(skuName, "skuName") }
        guard price.amount >= Decimal(string: "0.01")!, price.amount <= 1_000_000, price.rounded(scale: 2) == price else {
            throw InputError("price must be 0.01...1000000.00 yuan, in cents")
        }
    }
}

/// Sessions in PostgreSQL, their wms reservation and their Redis copy.
package struct SessionStore: Sendable {
    let postgres: PostgresPool
    let redis: RedisPool
    let wms: WareClient
    let logger: Logger

    static let columns = "id, sku_id, sku_name, price, stock, buyer_limit, start_time, end_time, reserved, released"

    static func session(_ row: PostgresRow) throws -> FlashSaleSession {
        FlashSaleSession(
            id: try row.decode("id"), skuId: try row.decode("sku_id"), skuName: try row.decode("sku_name"),
            price: Money(try row.decode("price", as: Decimal.self)), stock: try row.decode("stock"), limit: try row.decode("buyer_limit"),
            startTime: try row.decode("start_time"), endTime: try row.decode("end_time"), reserved: try row.decode("reserved"),
            released: try row.decode("released"), permitsLeft: nil)
    }

    /// Opens a session (idempotent on sku and start time): stored, stock reserved in wms, preloaded.
    package func open(_ request: OpenSessionRequest) async throws -> FlashSaleSession {
        try request.validate()
        guard request.endTime > request.startTime else { throw SessionRefusal("the end must come after the start") }
        let session: FlashSaleSession = try await postgres.withTransaction { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(request.skuId))")
            let overlapping = try await connection.query("""
                SELECT id FROM sms_seckill_session WHERE sku_id = \(request.skuId) AND NOT released
                  AND start_time <> \(request.startTime) AND start_time < \(request.endTime) AND end_time > \(request.startTime)
                """).rows
            guard overlapping.isEmpty else { throw SessionRefusal("sku \(request.skuId) already has a session in that time") }
            let stored = try await connection.query("""
                INSERT INTO sms_seckill_session (sku_id, sku_name, price, stock, buyer_limit, start_time, end_time)
                VALUES (\(request.skuId), \(request.skuName ?? ""), \(request.price.amount), \(request.stock), \(request.limit ?? 1),
                        \(request.startTime), \(request.endTime))
                ON CONFLICT (sku_id, start_time) DO UPDATE SET sku_id = EXCLUDED.sku_id
                RETURNING \(unescaped: Self.columns)
                """).first
            guard let stored else { throw SessionRefusal("the session could not be stored") }
            return try Self.session(stored)
        }
        return try await ensureReady(session)
    }

    /// Reserves the session's stock in wms if not yet done, and loads Redis if it lost the session.
    @discardableResult
    package func ensureReady(_ session: FlashSaleSession) async throws -> FlashSaleSession {
        var session = session
        if !session.reserved {
            _ = try await wms.reserve(ReservationRequest(key: session.reservationKey, skuId: session.skuId, count: session.stock))
            try await postgres.query("UPDATE sms_seckill_session SET reserved = true, reservation_key = \(session.reservationKey) WHERE id = \(session.id)")
            session.reserved = true
        }
        try await preload(session)
        return session
    }

    /// Puts the session into Redis unless it is there: permits = stock - wins not released;
    /// buyers from their wins. Never re-seeds a loaded session.
    package func preload(_ session: FlashSaleSession) async throws {
        if try await redis.send(["HGET", FlashSaleKeys.session(session.skuId), "id"]).string == String(session.id) { return }
        let wins = try await postgres.query("""
            SELECT user_id, sum(count) AS n FROM sms_seckill_win WHERE session_id = \(session.id) AND NOT released GROUP BY user_id
            """).rows.map { (try $0.decode("user_id", as: Int64.self), try $0.decode("n", as: Int.self)) }
        let taken = wins.reduce(0) { $0 + $1.1 }
        var arguments = [
            String(session.id), String(Int64(session.startTime.timeIntervalSince1970 * 1000)),
            String(Int64(session.endTime.timeIntervalSince1970 * 1000)), String(session.limit), session.price.yuan,
            String(session.stock), String(max(0, session.stock - taken)),
        ]
        for (user, n) in wins { arguments += [String(user), String(n)] }
        let loaded = try await redis.evaluate(
            FlashSaleScripts.preload,
            keys: [
                FlashSaleKeys.session(session.skuId), FlashSaleKeys.stock(session.skuId), FlashSaleKeys.permits(session.skuId),
                FlashSaleKeys.buyers(session.skuId), FlashSaleKeys.returned(session.skuId),
            ],
            arguments: arguments)
        if loaded.int == 1 {
            logger.info("seckill.session.preloaded", metadata: ["seckill.session": "\(session.id)", "seckill.permits": "\(session.stock - taken)"])
        }
    }

    /// Sessions not yet released (running, coming, or ended and waiting for release).
    package func active() async throws -> [FlashSaleSession] {
        try await postgres.query("SELECT \(unescaped: Self.columns) FROM sms_seckill_session WHERE NOT released ORDER BY start_time").rows.map(Self.session)
    }

    /// The session a sku is currently loaded with.
    package func find(id: Int64) async throws -> FlashSaleSession? {
        try await postgres.query("SELECT \(unescaped: Self.columns) FROM sms_seckill_session WHERE id = \(id)").first.map(Self.session)
    }

    /// Ends a session past its end time: its unsold rest goes back to wms, once every win not
    /// released has its order (and so its lock); until then the session waits for the next tick.
    package func release(_ session: FlashSaleSession) async throws {
        let wins: Int = try await postgres.query("""
            SELECT count(*) AS n FROM sms_seckill_win WHERE session_id = \(session.id) AND NOT released
            """).first?.decode("n") ?? 0
        switch try await wms.releaseReservation(key: session.reservationKey, wins: wins) {
        case .released:
            break
        case .unsettled:
            logger.info("seckill.session.release_waits", metadata: ["seckill.session": "\(session.id)", "seckill.wins": "\(wins)"])
            return
        case .notFound:
            throw SessionRefusal("wms has no reservation \(session.reservationKey)")
        }
        try await postgres.query("UPDATE sms_seckill_session SET released = true WHERE id = \(session.id)")
        logger.info("seckill.session.released", metadata: ["seckill.session": "\(session.id)"])
    }
}

/// A session could not be opened (HTTP 409/400 with the reason).
package struct SessionRefusal: Error, CustomStringConvertible, Sendable {
    package let description: String
    package init(_ d: String) { description = d }
}

/// Keeps Redis and wms in step with the sessions: reloads a session Redis lost (never from the
/// original stock: from the wins), finishes an interrupted reservation, and releases ended
/// sessions' unsold stock. A `Service`; safe with several instances (every step is idempotent).
package final class SessionKeeper: Service, Sendable {
    let store: SessionStore
    let openSkus: OpenSkus
    let interval: Duration
    let logger: Logger

    package init(store: SessionStore, openSkus: OpenSkus, interval: Duration, logger: Logger) {
        self.store = store
        self.openSkus = openSkus
        self.interval = interval
        self.logger = logger
    }

    package func run() async throws {
        while !Task.isShuttingDownGracefully {
            do { try await tick() } catch { logger.warning("seckill.keeper.failed", metadata: ["error": "\(error)"]) }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
        }
    }

    package func tick() async throws {
        let now = Date()
        let sessions = try await store.active()
        openSkus.replace(with: sessions)
        for session in sessions {
            if session.endTime <= now.addingTimeInterval(-2) {
                try await store.release(session)
            } else {
                try await store.ensureReady(session)
            }
        }
    }
}
