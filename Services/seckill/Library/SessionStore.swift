import Contracts
import Foundation
import Logging
import Postgres
import Redis
import ServiceKit
import ServiceLifecycle
import Synchronization

/// Sessions in PostgreSQL, their wms reservation and their Redis copy.
package struct SessionStore: Sendable {
    let postgres: PostgresPool
    let redis: RedisPool
    let wms: WareClient
    let logger: Logger

    static let columns = "id, sku_id, sku_name, price, stock, buyer_limit, start_time, end_time, reserved, released, code, challenge_bits"

    static func session(_ row: PostgresRow) throws -> FlashSaleSession {
        FlashSaleSession(
            id: try row.decode("id"), skuId: try row.decode("sku_id"), skuName: try row.decode("sku_name"),
            price: Money(try row.decode("price", as: Decimal.self)), stock: try row.decode("stock"), limit: try row.decode("buyer_limit"),
            startTime: try row.decode("start_time"), endTime: try row.decode("end_time"), reserved: try row.decode("reserved"),
            released: try row.decode("released"), permitsLeft: nil, code: try row.decodeIfPresent("code"),
            challengeBits: try row.decode("challenge_bits"))
    }

    /// Opens a session (idempotent on sku and start time): stored, stock reserved in wms, preloaded.
    package func open(_ request: OpenSessionRequest, defaultChallengeBits: Int) async throws -> FlashSaleSession {
        try request.validate()
        // 16 random hex digits: guessing one before the start is hopeless, and after it, public.
        let code = request.requireCode == false ? nil : (0..<8).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        guard request.endTime > request.startTime else { throw SessionRefusal("the end must come after the start") }
        let session: FlashSaleSession = try await postgres.withTransaction { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(request.skuId))")
            let overlapping = try await connection.query("""
                SELECT id FROM sms_seckill_session WHERE sku_id = \(request.skuId) AND NOT released
                  AND start_time <> \(request.startTime) AND start_time < \(request.endTime) AND end_time > \(request.startTime)
                """).rows
            guard overlapping.isEmpty else { throw SessionRefusal("sku \(request.skuId) already has a session in that time") }
            let stored = try await connection.query("""
                INSERT INTO sms_seckill_session (sku_id, sku_name, price, stock, buyer_limit, start_time, end_time, code, challenge_bits)
                VALUES (\(request.skuId), \(request.skuName ?? ""), \(request.price.amount), \(request.stock), \(request.limit ?? 1),
                        \(request.startTime), \(request.endTime), \(code), \(request.challengeBits ?? defaultChallengeBits))
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

    /// Puts the session into its own Redis keys unless it is there: permits = stock - wins not
    /// released; buyers and wins from the wins. Never re-seeds a loaded session, never touches
    /// another session of the sku.
    package func preload(_ session: FlashSaleSession) async throws {
        let sku = session.skuId
        if try await redis.send(["HGET", FlashSaleKeys.session(sku, session: session.id), "id"]).string == String(session.id) { return }
        let wins = try await unreleasedWins(session)
        let taken = wins.reduce(0) { $0 + $1.count }
        var arguments = [
            String(session.id), String(Int64(session.startTime.timeIntervalSince1970 * 1000)),
            String(Int64(session.endTime.timeIntervalSince1970 * 1000)), String(session.limit), session.price.yuan,
            String(session.stock), String(max(0, session.stock - taken)),
        ]
        for win in wins { arguments += [win.orderSn, String(win.buyer), String(win.count)] }
        let loaded = try await redis.evaluate(
            FlashSaleScripts.preload,
            keys: [
                FlashSaleKeys.session(sku, session: session.id), FlashSaleKeys.stock(sku, session: session.id),
                FlashSaleKeys.permits(sku, session: session.id), FlashSaleKeys.buyers(sku, session: session.id),
                FlashSaleKeys.returned(sku, session: session.id), FlashSaleKeys.wins(sku, session: session.id),
            ],
            arguments: arguments)
        if loaded.int == 1 {
            logger.info("seckill.session.preloaded", metadata: ["seckill.session": "\(session.id)", "seckill.permits": "\(session.stock - taken)"])
        }
    }

    /// Applies to Redis the durable wins it forgot (a lost last second): their permits and the
    /// buyers' places are taken again. Returns the units repaired.
    @discardableResult
    package func reconcile(_ session: FlashSaleSession) async throws -> Int {
        let sku = session.skuId
        var repaired = 0
        // A page of wins at a time, each applied before the next is read: memory stays one page
        // whatever the sale's size. (It read every win of the session at once, every reconcile:
        // deploy/bench/soak saw seckill's memory follow the session to 441 MiB at 196,000 wins.)
        var after = ""
        while true {
            let slice = try await unreleasedWins(session, after: after, limit: Self.reconcilePage)
            guard let last = slice.last else { break }
            after = last.orderSn
            var arguments = [String(session.id)]
            for win in slice { arguments += [win.orderSn, String(win.buyer), String(win.count)] }
            repaired += Int(try await redis.evaluate(
                FlashSaleScripts.reconcile,
                keys: [
                    FlashSaleKeys.session(sku, session: session.id), FlashSaleKeys.permits(sku, session: session.id),
                    FlashSaleKeys.buyers(sku, session: session.id), FlashSaleKeys.wins(sku, session: session.id),
                    FlashSaleKeys.returned(sku, session: session.id),
                ],
                arguments: arguments).int ?? 0)
            if slice.count < Self.reconcilePage { break }
        }
        if repaired > 0 {
            logger.warning("seckill.session.reconciled", metadata: ["seckill.session": "\(session.id)", "seckill.units": "\(repaired)"])
        }
        return repaired
    }

    /// Wins per page of a reconcile (and per script call).
    static let reconcilePage = 1000

    /// The session's unreleased wins after order number `after`, in order, at most `limit`.
    private func unreleasedWins(_ session: FlashSaleSession, after: String, limit: Int) async throws -> [Win] {
        try await postgres.query("""
            SELECT order_sn, user_id, count FROM sms_seckill_win
            WHERE session_id = \(session.id) AND NOT released AND order_sn > \(after)
            ORDER BY order_sn LIMIT \(limit)
            """).rows.map { try Self.win($0, of: session) }
    }

    private func unreleasedWins(_ session: FlashSaleSession) async throws -> [Win] {
        try await postgres.query("""
            SELECT order_sn, user_id, count FROM sms_seckill_win WHERE session_id = \(session.id) AND NOT released
            """).rows.map { try Self.win($0, of: session) }
    }

    /// A row of `sms_seckill_win` (`order_sn`, `user_id`, `count`) of `session`.
    private static func win(_ row: PostgresRow, of session: FlashSaleSession) throws -> Win {
        Win(orderSn: try row.decode("order_sn"), sessionID: session.id, sku: session.skuId, buyer: try row.decode("user_id"), count: try row.decode("count"))
    }

    /// Sessions not yet released (running, coming, or ended and waiting for release).
    package func active() async throws -> [FlashSaleSession] {
        try await postgres.query("SELECT \(unescaped: Self.columns) FROM sms_seckill_session WHERE NOT released ORDER BY start_time").rows.map(Self.session)
    }

    /// A session by id.
    package func find(id: Int64) async throws -> FlashSaleSession? {
        try await postgres.query("SELECT \(unescaped: Self.columns) FROM sms_seckill_session WHERE id = \(id)").first.map(Self.session)
    }

    /// Ends a session past its end time: its unsold rest goes back to wms, once every win not
    /// released has its order (and so its lock). Until then it answers how many wins it waits
    /// for (the keeper tries again later); nil once released.
    package func release(_ session: FlashSaleSession) async throws -> Int? {
        let wins: Int = try await postgres.query("""
            SELECT count(*) AS n FROM sms_seckill_win WHERE session_id = \(session.id) AND NOT released
            """).first?.decode("n") ?? 0
        switch try await wms.releaseReservation(key: session.reservationKey, wins: wins) {
        case .released:
            break
        case .unsettled:
            return wins
        case .notFound:
            throw SessionRefusal("wms has no reservation \(session.reservationKey)")
        }
        try await postgres.query("UPDATE sms_seckill_session SET released = true WHERE id = \(session.id)")
        // Its Redis keys go after a while (a late give-back finds nothing to give, as it should).
        for key in FlashSaleKeys.all(session.skuId, session: session.id) { _ = try? await redis.send(["PEXPIRE", key, "600000"]) }
        logger.info("seckill.session.released", metadata: ["seckill.session": "\(session.id)"])
        return nil
    }
}
