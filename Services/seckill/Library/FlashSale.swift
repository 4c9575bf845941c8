import AMQP
import Contracts
import Foundation
import Hummingbird
import Logging
import Postgres
import Redis
import ServiceKit
import Signing

/// The hot path of a flash sale: one Lua script decides, the win is recorded (batched with the
/// other winners of the moment), `sec.kill` is published with confirms, or everything is given back.
package struct FlashSale: Sendable {
    let postgres: PostgresPool
    let redis: RedisPool
    let publisher: AMQPPublisher
    let ledger: WinLedger
    let store: SessionStore
    let calendar: SessionCalendar
    let numbers: OrderNumbers
    let config: SeckillServiceConfig
    let challenges: FlashSaleChallenge
    let logger: Logger

    /// What a buy carries beside the buyer: the session's code and the proof-of-work, when the
    /// session asks for them.
    package struct Proof: Sendable {
        package var code: String?
        package var nonce: String?
        package var answer: String?
        package init(code: String? = nil, nonce: String? = nil, answer: String? = nil) {
            self.code = code
            self.nonce = nonce
            self.answer = answer
        }
    }

    /// One attempt by `buyer` on `sku` for `count` units.
    package func attempt(sku: Int64, buyer: Int64, count: Int = 1, proof: Proof = Proof(), logger: Logger) async throws -> AttemptResult {
        // The session by time, from memory: a sku with no session never reaches Redis or PostgreSQL.
        let now = Date()
        guard let session = calendar.session(for: sku, at: now) else { return .noSession }
        // The code and the challenge are checked here, in memory, before any permit is touched.
        if let expected = session.code {
            guard let code = proof.code, ConstantTime.equals(code, expected) else { return .wrongCode }
        }
        var spent: FlashSaleChallenge.Spent?
        if session.challengeBits > 0 {
            do throws(FlashSaleChallenge.Refusal) {
                spent = try challenges.verify(
                    nonce: proof.nonce ?? "", answer: proof.answer ?? "", buyer: buyer, session: session.id, code: session.code,
                    bits: session.challengeBits, now: now)
            } catch {
                return .challengeRefused(error.description)
            }
        }
        // No instance id held (its lease was lost): no number can be unique, so no win now.
        guard let orderSn = numbers.next() else { return .retry }
        var taken = try await take(sku: sku, session: session.id, buyer: buyer, count: count, orderSn: orderSn, spent: spent)
        if taken.code == .notLoaded {
            // Redis lost the session (or it was never loaded): load it from PostgreSQL once.
            try await store.ensureReady(session)
            taken = try await take(sku: sku, session: session.id, buyer: buyer, count: count, orderSn: orderSn, spent: spent)
        }
        if let answer = taken.answer { return answer }
        guard taken.code == .won else { return .noSession }  // still not loaded after loading it
        let sessionID = taken.value
        // The price comes with the permit (preloaded with the session); PostgreSQL only if it did not.
        var price = taken.price
        if price == nil { price = try await store.find(id: sessionID)?.price }
        guard let price else {
            try await giveBack(sku: sku, buyer: buyer, count: count, sessionID: sessionID, orderSn: orderSn)
            return .noSession
        }
        do {
            try await ledger.record(Win(orderSn: orderSn, sessionID: sessionID, sku: sku, buyer: buyer, count: count))
        } catch let refusal as WinRefusal {
            logger.warning("seckill.win.refused", metadata: [
                "order.sn": "\(orderSn)", "seckill.buyer": "\(buyer)", "seckill.session": "\(sessionID)", "seckill.refusal": "\(refusal)",
            ])
            try await giveBack(sku: sku, buyer: buyer, count: count, sessionID: sessionID, orderSn: orderSn)
            return AttemptResult(refusal: refusal)
        } catch {
            logger.error("seckill.win.not_recorded", error: error, metadata: ["order.sn": "\(orderSn)"])
            try await giveBack(sku: sku, buyer: buyer, count: count, sessionID: sessionID, orderSn: orderSn)
            return .retry
        }
        do {
            let won = SeckillWon(orderSn: orderSn, skuId: sku, userId: buyer, count: count, price: price, sessionId: sessionID)
            try await publisher.publish(try .json(won, route: Messaging.secKill))
        } catch {
            logger.error("seckill.publish.failed", error: error, metadata: ["order.sn": "\(orderSn)"])
            try await postgres.query("UPDATE sms_seckill_win SET released = true WHERE order_sn = \(orderSn)")
            try await giveBack(sku: sku, buyer: buyer, count: count, sessionID: sessionID, orderSn: orderSn)
            return .retry
        }
        return .won(orderSn: orderSn)
    }

    private func take(sku: Int64, session: Int64, buyer: Int64, count: Int, orderSn: String, spent: FlashSaleChallenge.Spent?) async throws -> TakeReply {
        let now = Date()
        let reply = try await redis.evaluate(
            FlashSaleScripts.take,
            keys: [
                FlashSaleKeys.session(sku, session: session), FlashSaleKeys.permits(sku, session: session),
                FlashSaleKeys.buyers(sku, session: session), FlashSaleKeys.countdown(sku, orderSn), FlashSaleKeys.bucket(sku, buyer),
                FlashSaleKeys.wins(sku, session: session), FlashSaleKeys.usedChallenge(sku, spent?.random ?? "-"),
            ],
            arguments: [
                String(buyer), String(count), String(Int64(now.timeIntervalSince1970 * 1000)), String(config.latchTTLMilliseconds),
                String(config.bucketCapacity), String(config.bucketRate), orderSn,
                spent.map { String($0.markerMilliseconds(now: now)) } ?? "0",
            ])
        return try TakeReply(reply)
    }

    /// The second script: permit and place back, once per order.
    func giveBack(sku: Int64, buyer: Int64, count: Int, sessionID: Int64, orderSn: String) async throws {
        _ = try await redis.evaluate(
            FlashSaleScripts.giveBack,
            keys: [
                FlashSaleKeys.session(sku, session: sessionID), FlashSaleKeys.permits(sku, session: sessionID),
                FlashSaleKeys.buyers(sku, session: sessionID), FlashSaleKeys.countdown(sku, orderSn),
                FlashSaleKeys.returned(sku, session: sessionID), FlashSaleKeys.wins(sku, session: sessionID),
            ],
            arguments: [String(buyer), String(count), String(sessionID), orderSn])
    }

    /// `sec.release`: a flash-sale order closed unpaid (or failed): its permit goes back, once.
    /// The give-back runs before the commit that marks the win released; if that commit fails,
    /// the redelivered release finds the order in `returned` and gives nothing twice.
    package func release(_ delivery: AMQPDelivery) async throws -> AMQPOutcome {
        guard let m = try? delivery.decode(SeckillRelease.self), !m.orderSn.isEmpty else {
            return .deadLetter(reason: "malformed sec.release payload")
        }
        try await postgres.withTransaction { connection in
            guard let row = try await connection.query("""
                UPDATE sms_seckill_win SET released = true WHERE order_sn = \(m.orderSn) AND NOT released
                RETURNING session_id, sku_id, user_id, count
                """).first
            else { return }
            // A win the reservation could not cover has no unit behind its permit: released, not restocked.
            guard m.restock != false else { return }
            try await giveBack(
                sku: try row.decode("sku_id"), buyer: try row.decode("user_id"), count: try row.decode("count"),
                sessionID: try row.decode("session_id"), orderSn: m.orderSn)
        }
        logger.info("seckill.permit.released", metadata: ["order.sn": "\(m.orderSn)"])
        return .ack
    }

    /// What the pay-wait page should do for `orderSn`.
    package enum PayWait: Sendable, Equatable { case ready, soldOut, processing, notFound }

    /// Polls the order's latch (without blocking a thread) up to the configured bound.
    package func waitForOrder(orderSn: String, buyer: Int64) async throws -> PayWait {
        guard let win = try await postgres.query("SELECT sku_id, user_id FROM sms_seckill_win WHERE order_sn = \(orderSn)").first,
              try win.decode("user_id", as: Int64.self) == buyer
        else { return .notFound }
        let key = FlashSaleKeys.countdown(try win.decode("sku_id"), orderSn)
        let deadline = ContinuousClock.now + config.payWait
        var pause = Duration.milliseconds(10)
        while true {
            let held = try await redis.send(["GET", key]).string
            // A missing latch expired (or was lost with Redis): the buyer's order view (`/oms/order/{SN}`) tells.
            guard let held else { return .processing }
            switch FlashSaleLatch.Outcome(rawValue: held) {
            case .ok: return .ready
            case .soldOut, .failed: return .soldOut
            case nil: break  // still "1": the order is being made
            }
            if ContinuousClock.now + pause > deadline { return .processing }
            try await Task.sleep(for: pause)
            pause = min(pause * 2, .milliseconds(100))
        }
    }
}
