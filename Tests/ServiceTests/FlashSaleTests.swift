import Contracts
import Foundation
import Logging
import Postgres
import Redis
import SeckillService
import ServiceKit
import Signing
import Testing

let redis = RedisPool(host: "127.0.0.1", port: ProcessEnvironment().int("GMALL_REDIS_PORT") ?? 56379, maxConnections: 4)
let smsDatabase = PostgresPool(url: Databases.base + "/guli_sms", maxConnections: 4)

/// Opens a running session for a fresh sku with `stock` units (wms stock twice that), or another
/// session of `sku`. Without its code and challenge (the plain API machine clients use) unless
/// `guarded`, which takes the session's defaults (a code, `challengeBits` if given).
func openSession(
    stock: Int, limit: Int = 1, price: String = "9.90", startsIn: TimeInterval = -1, lasts: TimeInterval = 600, sku given: Int64? = nil,
    guarded: Bool = false, challengeBits: Int? = nil
) async throws -> (sku: Int64, session: Int64) {
    let sku: Int64
    if let given { sku = given } else { sku = try await newSku(stock: stock * 2) }
    let start = Date().addingTimeInterval(startsIn), end = start.addingTimeInterval(lasts)
    let guards = guarded ? (challengeBits.map { #","challengeBits":\#($0)"# } ?? "") : #","requireCode":false,"challengeBits":0"#
    let body = #"{"skuId":\#(sku),"skuName":"秒杀测试","price":"\#(price)","stock":\#(stock),"limit":\#(limit),"startTime":"\#(ISO8601DateFormatter().string(from: start))","endTime":"\#(ISO8601DateFormatter().string(from: end))"\#(guards)}"#
    let request = try await HTTP.send(
        TestCluster.seckillInternal + "/seckill/admin/sessions", method: .POST,
        headers: [("Content-Type", "application/json"), ("X-Admin-Token", TestCluster.adminToken)], body: body)
    guard request.status == .ok else { throw ClusterError("open session: \(request.status) \(request.body)") }
    let vo = try ShopJSON.decoder.decode(ResponseVo<SessionView>.self, from: Data(request.body.utf8))
    return (sku, vo.data!.id)
}

struct SessionView: Codable, Sendable { let id: Int64 }

/// One buyer's attempt; returns the ResponseVo code (or the HTTP status when there is no body).
func attempt(sku: Int64, buyer: Int64) async throws -> (code: Int, orderSn: String?, status: Int) {
    let token = try TestKeys.jwtSigner.token(userID: buyer)
    let reply = try await HTTP.send(TestCluster.seckill + "/miaosha/\(sku)", method: .POST, headers: [("Authorization", "Bearer \(token)")], body: nil)
    let vo = try? ShopJSON.decoder.decode(ResponseVo<String>.self, from: Data(reply.body.utf8))
    return (vo?.code ?? -Int(reply.status.code), vo?.data, Int(reply.status.code))
}

/// A buy carrying the session's code and a solved challenge, as the flash-sale page sends it.
func guardedAttempt(sku: Int64, buyer: Int64, code: String?, nonce: String?, answer: String?) async throws -> (code: Int, status: Int) {
    let token = try TestKeys.jwtSigner.token(userID: buyer)
    var query: [String] = []
    if let code { query.append("code=\(code)") }
    if let nonce { query.append("nonce=\(nonce)") }
    if let answer { query.append("answer=\(answer)") }
    let reply = try await HTTP.send(
        TestCluster.seckill + "/miaosha/\(sku)?" + query.joined(separator: "&"), method: .POST, headers: [("Authorization", "Bearer \(token)")], body: nil)
    let vo = try? ShopJSON.decoder.decode(ResponseVo<String>.self, from: Data(reply.body.utf8))
    return (vo?.code ?? -Int(reply.status.code), Int(reply.status.code))
}

/// `GET /miaosha/challenge` for `buyer`.
func fetchChallenge(sku: Int64, buyer: Int64) async throws -> (nonce: String, bits: Int) {
    let token = try TestKeys.jwtSigner.token(userID: buyer)
    let reply = try await HTTP.get(TestCluster.seckill + "/miaosha/challenge?skuId=\(sku)", headers: [("Authorization", "Bearer \(token)")])
    struct Issued: Codable { let nonce: String; let bits: Int }
    let issued = try #require(try ShopJSON.decoder.decode(ResponseVo<Issued>.self, from: Data(reply.body.utf8)).data)
    return (issued.nonce, issued.bits)
}

/// The public list's view of one session (its code once started).
func listedCode(session: Int64) async throws -> String?? {
    struct Listed: Codable { let id: Int64; let code: String? }
    let reply = try await HTTP.get(TestCluster.seckill + "/seckill/sessions")
    let list = try ShopJSON.decoder.decode(ResponseVo<[Listed]>.self, from: Data(reply.body.utf8)).data ?? []
    return list.first { $0.id == session }.map { $0.code }
}

/// What the real servers say about a session once the dust settles.
struct SaleState: Equatable, CustomStringConvertible {
    let orders: Int, buyers: Int, maxPerBuyer: Int, permits: Int?, reservationRemaining: Int, lockedFromReservation: Int
    var description: String { "orders=\(orders) buyers=\(buyers) maxPerBuyer=\(maxPerBuyer) permits=\(permits.map(String.init) ?? "nil") remaining=\(reservationRemaining) locked=\(lockedFromReservation)" }

    static func of(sku: Int64, session: Int64) async throws -> SaleState {
        let o = try await Databases.oms.query("""
            SELECT count(*) AS n, count(DISTINCT member_id) AS b,
                   coalesce((SELECT max(c) FROM (SELECT count(*) AS c FROM oms_order WHERE session_id = \(session) GROUP BY member_id) x), 0) AS m
            FROM oms_order WHERE session_id = \(session) AND status IN (0, 1)
            """).rows[0]
        let r = try await Databases.wms.query("SELECT remaining FROM wms_reservation WHERE key = \("seckill-session:\(session)")").rows[0]
        let locked = try await Databases.count(
            "SELECT coalesce(sum(count), 0) FROM wms_stock_lock WHERE sku_id = \(sku) AND status IN (0, 1)", in: Databases.wms)
        return SaleState(
            orders: try o.decode("n"), buyers: try o.decode("b"), maxPerBuyer: try o.decode("m"),
            permits: try await redis.send(["GET", FlashSaleKeys.permits(sku, session: session)]).int.map(Int.init),
            reservationRemaining: try r.decode("remaining"), lockedFromReservation: locked)
    }
}

/// Many buyers, several attempts each, all at once.
func crowd(sku: Int64, buyers: ClosedRange<Int64>, attemptsEach: Int) async throws -> [(buyer: Int64, code: Int)] {
    try await withThrowingTaskGroup(of: (Int64, Int).self) { group in
        for round in 0..<attemptsEach {
            for buyer in buyers {
                _ = round
                group.addTask { (buyer, (try? await attempt(sku: sku, buyer: buyer).code) ?? -1) }
            }
        }
        return try await group.reduce(into: []) { $0.append($1) }
    }
}

@Suite("Flash sale: exactly the stock, at most the limit, nobody waits forever", .serialized)
struct FlashSaleTests {
    init() async throws { try await TestCluster.shared.start() }

    @Test("a guarded session: its code is hidden before the start; a buy without the code, or without a fresh solved challenge, is refused before any permit")
    func codeAndChallenge() async throws {
        // Before the start: listed, but without its code; a guess is refused without touching Redis.
        let (laterSku, later) = try await openSession(stock: 2, startsIn: 3600, guarded: true, challengeBits: 8)
        let hidden = try await eventually { try await listedCode(session: later) != nil }
        #expect(hidden)
        #expect(try await listedCode(session: later) == .some(nil))
        #expect(try await guardedAttempt(sku: laterSku, buyer: 1, code: "0123456789abcdef", nonce: nil, answer: nil) == (1008, 403))

        let (sku, session) = try await openSession(stock: 2, guarded: true, challengeBits: 8)
        var shown: String? = nil
        let revealed = try await eventually { shown = try await listedCode(session: session) ?? nil; return shown != nil }
        #expect(revealed)
        let code = try #require(shown)
        let buyer = Int64.random(in: 100_000_000...900_000_000)
        let permits = { try await redis.send(["GET", FlashSaleKeys.permits(sku, session: session)]).int }
        #expect(try await guardedAttempt(sku: sku, buyer: buyer, code: nil, nonce: nil, answer: nil) == (1008, 403))
        #expect(try await guardedAttempt(sku: sku, buyer: buyer, code: "wrong", nonce: nil, answer: nil) == (1008, 403))
        #expect(try await guardedAttempt(sku: sku, buyer: buyer, code: code, nonce: nil, answer: nil) == (1009, 403))
        let (nonce, bits) = try await fetchChallenge(sku: sku, buyer: buyer)
        #expect(bits == 8)
        // Another buyer's solved challenge is refused; so is a wrong answer.
        let other = try await fetchChallenge(sku: sku, buyer: buyer + 1)
        let otherAnswer = DecisionTests.solve(other.nonce, code: code, bits: 8)
        #expect(try await guardedAttempt(sku: sku, buyer: buyer, code: code, nonce: other.nonce, answer: otherAnswer) == (1009, 403))
        #expect(try await permits() == 2)
        let answer = DecisionTests.solve(nonce, code: code, bits: 8)
        #expect(try await guardedAttempt(sku: sku, buyer: buyer, code: code, nonce: nonce, answer: answer).code == 0)
        #expect(try await permits() == 1)
        // The same answer again: refused as used (not "already bought": the nonce is checked first).
        let again = try await guardedAttempt(sku: sku, buyer: buyer + 2, code: code, nonce: nonce, answer: answer)
        #expect(again == (1009, 403))
        let reused = try await guardedAttempt(sku: sku, buyer: buyer, code: code, nonce: nonce, answer: answer)
        #expect(reused == (1009, 403))
        #expect(try await permits() == 1)
    }

    @Test("2,000 concurrent attempts by 500 buyers for 50 units: 50 orders, 50 buyers, permits 0, wms locked 50")
    func race() async throws {
        let (sku, session) = try await openSession(stock: 50)
        let base = Int64.random(in: 100_000_000...900_000_000)
        let results = try await crowd(sku: sku, buyers: base...(base + 499), attemptsEach: 4)
        #expect(results.count == 2000)
        let winners = results.filter { $0.code == 0 }
        #expect(winners.count == 50)
        #expect(Set(winners.map(\.buyer)).count == 50)
        #expect(results.allSatisfy { [0, 1001, 1002].contains($0.code) }, "\(Set(results.map(\.code)))")
        let settled = try await eventually(seconds: 20) { try await SaleState.of(sku: sku, session: session).orders == 50 }
        #expect(settled)
        let state = try await SaleState.of(sku: sku, session: session)
        #expect(state == SaleState(orders: 50, buyers: 50, maxPerBuyer: 1, permits: 0, reservationRemaining: 0, lockedFromReservation: 50), "\(state)")
    }

    @Test("a buyer who won and tries again is told 'already bought'; not started and ended are their own codes")
    func codes() async throws {
        let (sku, _) = try await openSession(stock: 5)
        let buyer = Int64.random(in: 100_000_000...900_000_000)
        #expect(try await attempt(sku: sku, buyer: buyer).code == 0)
        #expect(try await attempt(sku: sku, buyer: buyer).code == 1002)
        let (later, _) = try await openSession(stock: 5, startsIn: 3600)
        #expect(try await attempt(sku: later, buyer: buyer).code == 1003)
        let (soon, _) = try await openSession(stock: 5, startsIn: -2, lasts: 1)
        #expect(try await attempt(sku: soon, buyer: buyer).code == 1004)
        #expect(try await attempt(sku: 999_999_999_999, buyer: buyer).code == 1005)
    }

    @Test("a forged, expired or alg=none token, or none at all, is 401")
    func unauthorized() async throws {
        let (sku, session) = try await openSession(stock: 1)
        let url = TestCluster.seckill + "/miaosha/\(sku)"
        let other = JWTSigner(privateKey: try RSAPrivateKey(text: TestKeys.merchantPrivate))
        let expired = try TestKeys.jwtSigner.token(userID: 5, validFor: 60, now: Date().addingTimeInterval(-7200))
        let none = Base64URL.encode(Array(#"{"alg":"none"}"#.utf8)) + "." + Base64URL.encode(Array(#"{"sub":"5","exp":9999999999}"#.utf8)) + "."
        for headers in [[], [("Authorization", "Bearer \(try other.token(userID: 5))")], [("Authorization", "Bearer \(expired)")],
                        [("Authorization", "Bearer \(none)")], [("Cookie", "GMALL-TOKEN=garbage")]] {
            #expect(try await HTTP.send(url, method: .POST, headers: headers, body: nil).status == .unauthorized)
        }
        #expect(try await SaleState.of(sku: sku, session: session).permits == 1)
    }

    @Test("a buyer over the token bucket gets 429 with Retry-After")
    func rateLimited() async throws {
        let (sku, _) = try await openSession(stock: 1)
        let buyer = Int64.random(in: 100_000_000...900_000_000)
        var statuses: [Int] = []
        for _ in 0..<15 { statuses.append(try await attempt(sku: sku, buyer: buyer).status) }
        #expect(statuses.contains(429))
        let token = try TestKeys.jwtSigner.token(userID: buyer)
        let reply = try await HTTP.send(TestCluster.seckill + "/miaosha/\(sku)", method: .POST, headers: [("Authorization", "Bearer \(token)")], body: nil)
        #expect(reply.status == .tooManyRequests)
        #expect(Int(reply.header("Retry-After") ?? "") ?? 0 >= 1)
    }

    @Test("300 wins recorded at once are written in batches, each caller returning after its row is committed; a failed batch fails its callers and writes nothing; a win past the stock is refused")
    func winLedgerBatches() async throws {
        let (sku, session) = try await openSession(stock: 300)
        let ledger = WinLedger(postgres: smsDatabase, maxBatch: 64, logger: Logger(label: "test"))
        let writer = Task { try await ledger.run() }
        defer { writer.cancel() }
        let prefix = "9\(Int64.random(in: 100_000_000...900_000_000))"
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<300 {
                group.addTask {
                    try await ledger.record(Win(orderSn: "\(prefix)\(i)", sessionID: session, sku: sku, buyer: Int64(i + 1), count: 1))
                    // Committed before record returns: visible to another connection at once.
                    let seen = try await smsDatabase.query("SELECT count(*) AS n FROM sms_seckill_win WHERE order_sn = \("\(prefix)\(i)")").rows[0]
                    #expect(try seen.decode("n", as: Int64.self) == 1)
                }
            }
            try await group.waitForAll()
        }
        await #expect(throws: WinRefusal.soldOut) {
            try await ledger.record(Win(orderSn: "\(prefix)301", sessionID: session, sku: sku, buyer: 301, count: 1))
        }
        let unknownSession = Win(orderSn: "\(prefix)x", sessionID: -1, sku: sku, buyer: 1, count: 1)
        await #expect(throws: PostgresError.self) { try await ledger.record(unknownSession) }
        let rows = try await smsDatabase.query("SELECT count(*) AS n FROM sms_seckill_win WHERE order_sn LIKE \(prefix + "%")").rows[0]
        #expect(try rows.decode("n", as: Int64.self) == 300)
    }

    @Test("a duplicate order number or a win past the buyer's limit is refused alone: the other wins of its batch are written")
    func winLedgerRefusesAlone() async throws {
        let (sku, session) = try await openSession(stock: 10, limit: 1)
        let ledger = WinLedger(postgres: smsDatabase, maxBatch: 64, logger: Logger(label: "test"))
        let writer = Task { try await ledger.run() }
        defer { writer.cancel() }
        let prefix = "8\(Int64.random(in: 100_000_000...900_000_000))"
        try await ledger.record(Win(orderSn: "\(prefix)dup", sessionID: session, sku: sku, buyer: 7, count: 1))
        let attempts = [
            Win(orderSn: "\(prefix)dup", sessionID: session, sku: sku, buyer: 70, count: 1),  // the number again (another instance)
            Win(orderSn: "\(prefix)over", sessionID: session, sku: sku, buyer: 7, count: 1),  // buyer 7's second unit, limit 1
            Win(orderSn: "\(prefix)a", sessionID: session, sku: sku, buyer: 8, count: 1),
            Win(orderSn: "\(prefix)b", sessionID: session, sku: sku, buyer: 9, count: 1),
            Win(orderSn: "\(prefix)c", sessionID: session, sku: sku, buyer: 10, count: 1),
            Win(orderSn: "\(prefix)d", sessionID: session, sku: sku, buyer: 10, count: 1),  // 10 twice in one batch
        ]
        let outcomes = await withTaskGroup(of: (String, String).self) { group in
            for win in attempts {
                group.addTask {
                    do {
                        try await ledger.record(win)
                        return (win.orderSn, "ok")
                    } catch let refusal as WinRefusal {
                        return (win.orderSn, "\(refusal)")
                    } catch {
                        return (win.orderSn, "error: \(error)")
                    }
                }
            }
            return await group.reduce(into: [String: String]()) { $0[$1.0] = $1.1 }
        }
        #expect(outcomes["\(prefix)dup"] == "duplicateOrderNumber")
        #expect(outcomes["\(prefix)over"] == "overBuyerLimit")
        #expect(outcomes["\(prefix)a"] == "ok" && outcomes["\(prefix)b"] == "ok")
        #expect(Set([outcomes["\(prefix)c"], outcomes["\(prefix)d"]]) == ["ok", "overBuyerLimit"])
        let rows = try await smsDatabase.query("SELECT count(*) AS n FROM sms_seckill_win WHERE order_sn LIKE \(prefix + "%")").rows[0]
        #expect(try rows.decode("n", as: Int64.self) == 4)
        let perBuyer = try await smsDatabase.query("""
            SELECT max(n) AS m FROM (SELECT count(*) AS n FROM sms_seckill_win WHERE session_id = \(session) GROUP BY user_id) x
            """).rows[0]
        #expect(try perBuyer.decode("m", as: Int64.self) == 1)
    }

    @Test("a give-back runs once per order: a release retried after a failed commit does not give the permit twice")
    func giveBackOncePerOrder() async throws {
        let (sku, session) = try await openSession(stock: 2)
        let buyer = Int64.random(in: 100_000_000...900_000_000)
        let orderSn = try #require(try await attempt(sku: sku, buyer: buyer).orderSn)
        #expect(try await SaleState.of(sku: sku, session: session).permits == 1)
        let keys = [
            FlashSaleKeys.session(sku, session: session), FlashSaleKeys.permits(sku, session: session), FlashSaleKeys.buyers(sku, session: session),
            FlashSaleKeys.countdown(sku, orderSn), FlashSaleKeys.returned(sku, session: session), FlashSaleKeys.wins(sku, session: session),
        ]
        let arguments = [String(buyer), "1", String(session), orderSn]
        #expect(try await redis.evaluate(FlashSaleScripts.giveBack, keys: keys, arguments: arguments).int == 1)
        #expect(try await redis.evaluate(FlashSaleScripts.giveBack, keys: keys, arguments: arguments).int == 0)
        #expect(try await SaleState.of(sku: sku, session: session).permits == 2)
        #expect(try await redis.send(["HGET", FlashSaleKeys.buyers(sku, session: session), String(buyer)]) == .null)
    }

    @Test("a sold-out answer spends no token: a buyer asking again and again keeps hearing 'sold out', not 429")
    func soldOutIsNotMetered() async throws {
        let (sku, _) = try await openSession(stock: 1)
        #expect(try await attempt(sku: sku, buyer: Int64.random(in: 100_000_000...900_000_000)).code == 0)
        let late = Int64.random(in: 100_000_000...900_000_000)
        var codes: [Int] = []
        for _ in 0..<15 { codes.append(try await attempt(sku: sku, buyer: late).code) }
        #expect(codes == Array(repeating: 1001, count: 15))
    }

    @Test("the pay-wait redirects to pay.html once the order exists; an expired latch answers 202 at once; a stuck one 202 after the bound")
    func payWait() async throws {
        let (sku, _) = try await openSession(stock: 2)
        let buyer = Int64.random(in: 100_000_000...900_000_000)
        let won = try await attempt(sku: sku, buyer: buyer)
        let orderSn = try #require(won.orderSn)
        let token = try TestKeys.jwtSigner.token(userID: buyer)
        let wait = try await HTTP.get(TestCluster.seckill + "/miaosha/pay?orderSn=\(orderSn)", headers: [("Authorization", "Bearer \(token)")])
        #expect(wait.status == .found)
        #expect(wait.header("Location") == "/pay.html?orderToken=\(orderSn)")
        let other = try TestKeys.jwtSigner.token(userID: buyer + 1)
        #expect(try await HTTP.get(TestCluster.seckill + "/miaosha/pay?orderSn=\(orderSn)", headers: [("Authorization", "Bearer \(other)")]).status == .notFound)
        // a latch that expired
        _ = try await redis.send(["DEL", "sec:{\(sku)}:countdown:\(orderSn)"])
        var started = Date()
        #expect(try await HTTP.get(TestCluster.seckill + "/miaosha/pay?orderSn=\(orderSn)", headers: [("Authorization", "Bearer \(token)")]).status == .accepted)
        #expect(Date().timeIntervalSince(started) < 1)
        // a latch nobody counts down: 202 after the 1 s bound, not a hang
        _ = try await redis.send(["SET", "sec:{\(sku)}:countdown:\(orderSn)", "1", "PX", "60000"])
        started = Date()
        let stuck = try await HTTP.get(TestCluster.seckill + "/miaosha/pay?orderSn=\(orderSn)", headers: [("Authorization", "Bearer \(token)")])
        #expect(stuck.status == .accepted)
        #expect(stuck.header("Retry-After") == "1")
        #expect(Date().timeIntervalSince(started) < 3)
    }

    @Test("an unpaid flash-sale order that closes gives its permit back and the sale sells it again; a paid one does not")
    func closeReleasesPermit() async throws {
        let (sku, session) = try await openSession(stock: 2)
        let a = Int64.random(in: 100_000_000...900_000_000)
        let first = try #require(try await attempt(sku: sku, buyer: a).orderSn)
        let second = try #require(try await attempt(sku: sku, buyer: a + 1).orderSn)
        #expect(try await attempt(sku: sku, buyer: a + 2).code == 1001)
        let created = try await eventually { try await SaleState.of(sku: sku, session: session).orders == 2 }
        #expect(created)
        try await publish(OrderPaid(orderSn: second), route: Messaging.orderPay)
        let paid = try await eventually { try await orderStatus(second) == 1 }
        #expect(paid)
        try await publish(OrderRef(orderSn: first), route: Messaging.orderClose)
        try await publish(OrderRef(orderSn: second), route: Messaging.orderClose)
        let released = try await eventually { try await SaleState.of(sku: sku, session: session).permits == 1 }
        #expect(released)
        #expect(try await orderStatus(first) == 4)
        #expect(try await orderStatus(second) == 1)
        #expect(try await attempt(sku: sku, buyer: a + 2).code == 0)
        #expect(try await attempt(sku: sku, buyer: a + 3).code == 1001)
        let resold = try await eventually { try await SaleState.of(sku: sku, session: session).orders == 2 }
        #expect(resold)
        #expect(try await SaleState.of(sku: sku, session: session).reservationRemaining == 0)
    }

    /// 100 units; 150 buyers start, `fault` strikes while they race, then 300 buyers try twice.
    /// Returns the sku and the settled state once 100 orders exist.
    func sale(through fault: (Int64) async throws -> Void, after delay: UInt64) async throws -> (Int64, SaleState) {
        let (sku, session) = try await openSession(stock: 100)
        let base = Int64.random(in: 100_000_000...900_000_000)
        async let firstWave = crowd(sku: sku, buyers: base...(base + 149), attemptsEach: 1)
        try await Task.sleep(nanoseconds: delay)
        try await fault(sku)
        _ = try await firstWave
        _ = try await crowd(sku: sku, buyers: base...(base + 299), attemptsEach: 2)
        let settled = try await eventually(seconds: 20) { try await SaleState.of(sku: sku, session: session).orders == 100 }
        #expect(settled)
        try await Task.sleep(nanoseconds: 500_000_000)
        return (sku, try await SaleState.of(sku: sku, session: session))
    }

    @Test("seckill restarted mid-sale still sells exactly the stock")
    func restartMidSale() async throws {
        let (_, state) = try await sale(through: { _ in try await TestCluster.shared.restartSeckill() }, after: 100_000_000)
        #expect(state.orders == 100 && state.maxPerBuyer == 1 && state.permits == 0 && state.reservationRemaining == 0, "\(state)")
    }

    @Test("Redis losing the sale's keys mid-sale still sells exactly the stock (rebuilt from PostgreSQL, not re-seeded)")
    func redisLossMidSale() async throws {
        let (sku, state) = try await sale(through: { sku in
            let keys = try await redis.send(["KEYS", "sec:{\(sku)}:*"]).array?.compactMap(\.string) ?? []
            if !keys.isEmpty { _ = try await redis.send(["DEL"] + keys) }
        }, after: 150_000_000)
        #expect(state.orders == 100 && state.maxPerBuyer == 1 && state.reservationRemaining == 0, "\(state)")
        #expect(try await Databases.count("SELECT count(*) FROM wms_stock_lock WHERE sku_id = \(sku) AND status IN (0, 1)", in: Databases.wms) == 100)
    }
}

/// Stops the broker, so it runs alone with the BrokerRestart tests (`swift test --filter BrokerStop`).
@Suite("BrokerStop", .serialized)
struct BrokerStopFlashSaleTests {
    @Test("a win whose sec.kill cannot be published gives the permit and the buyer's place back")
    func publishFailureGivesBack() async throws {
        try await TestCluster.shared.start()
        let (sku, session) = try await openSession(stock: 3)
        let buyer = Int64.random(in: 100_000_000...900_000_000)
        try localServers("stop-rabbitmq")
        let during: (code: Int, orderSn: String?, status: Int)
        do {
            during = try await attempt(sku: sku, buyer: buyer)
        } catch {
            try localServers("start-rabbitmq")
            throw error
        }
        try localServers("start-rabbitmq")
        #expect(during.code == 1006)
        #expect(during.status == 503)
        #expect(try await SaleState.of(sku: sku, session: session).permits == 3)
        // the buyer's place was given back too: the same buyer can win now
        let ok = try await eventually(seconds: 20) { try await attempt(sku: sku, buyer: buyer).code == 0 }
        #expect(ok)
        #expect(try await SaleState.of(sku: sku, session: session).permits == 2)
    }
}
