import Contracts
import Foundation
import NIOHTTP1
import Postgres
import ServiceKit
import Signing
import Testing

/// The attacks of the trust-boundary issue, each as it was tried: through the gateway (the same
/// nginx template every deployment uses, in front of the test services) and on the internal ports.
@Suite("Trust boundary: the gateway serves buyers and Alipay only, internal calls need a credential, no request crashes a service")
struct TrustBoundaryTests {
    init() async throws { try await TestCluster.shared.start() }

    static let attackerLock = #"{"orderSn":"attacker-1","items":[{"skuId":SKU,"count":3}]}"#

    /// Locks of `sku` (any status).
    func locks(_ sku: Int64) async throws -> Int {
        try await Databases.count("SELECT count(*) FROM wms_stock_lock WHERE sku_id = \(sku)", in: Databases.wms)
    }

    @Test("an anonymous stock lock through the gateway is not there (404 ResponseVo), by any path trick, and nothing is locked")
    func anonymousLockThroughGateway() async throws {
        let sku = try await newSku(stock: 10)
        let body = Self.attackerLock.replacingOccurrences(of: "SKU", with: String(sku))
        for path in ["/wms/lock", "//wms/lock", "/WMS/LOCK", "/pay/../wms/lock", "/pay/..%2Fwms/lock", "/miaosha/1/../../wms/lock", "/wms/lock/"] {
            let reply = try await HTTP.send(TestCluster.gateway + path, method: .POST, headers: [("Content-Type", "application/json")], body: body)
            #expect(reply.status == .notFound || reply.status == .badRequest, "\(path): \(reply.status)")
            let vo = try? ShopJSON.decoder.decode(ResponseVo<String>.self, from: Data(reply.body.utf8))
            #expect(vo != nil && vo?.code != 0, "\(path): \(reply.body)")
        }
        #expect(try await locks(sku) == 0)
        #expect(try await SkuState.of(sku).locked == 0)
    }

    @Test("on wms's internal listener a lock without a service token, with a forged, expired or foreign-key one, or from payment, is refused; oms's is served")
    func internalLockNeedsCredential() async throws {
        let sku = try await newSku(stock: 10)
        let body = #"{"orderSn":"CRED-\#(sku)","items":[{"skuId":\#(sku),"count":1}]}"#
        #expect(try await wmsCall("/wms/lock", body, caller: nil).status == .unauthorized)
        let valid = TestCluster.serviceToken("oms", to: "wms")
        let forged = String(valid.dropLast(4)) + (valid.hasSuffix("AAAA") ? "BBBB" : "AAAA")
        let expired = ServiceToken.mint(caller: "oms", callee: "wms", key: Array(TestCluster.serviceKey.utf8), now: Date().addingTimeInterval(-3600))
        let otherKey = ServiceToken.mint(caller: "oms", callee: "wms", key: Array("another-key-0123456789abcdef0123456789abcdef".utf8))
        let forOms = TestCluster.serviceToken("seckill", to: "oms")  // a token sent to oms, replayed at wms
        for token in [forged, expired, otherKey, forOms, "svc1.oms.wms.99999999999.AAAA", "Bearer \(valid)", ""] {
            let reply = try await HTTP.send(
                TestCluster.wmsInternal + "/wms/lock", method: .POST,
                headers: [("Content-Type", "application/json"), (ServiceToken.header, token)], body: body)
            #expect(reply.status == .unauthorized, "\(token): \(reply.status)")
        }
        #expect(try await wmsCall("/wms/lock", body, caller: "payment").status == .forbidden)
        #expect(try await locks(sku) == 0)
        #expect(try await wmsCall("/wms/lock", body, caller: "oms").status == .ok)
        #expect(try await locks(sku) == 1)
    }

    @Test("a running sale's reservation can neither be released nor pre-created by an anonymous caller")
    func reservationsNeedCredential() async throws {
        let (_, session) = try await openSession(stock: 5)
        let key = "seckill-session:\(session)"
        let next = "seckill-session:\(session + 1_000_000)"
        let sku = try await newSku(stock: 10)
        let precreate = #"{"key":"\#(next)","skuId":\#(sku),"count":1}"#
        for base in [TestCluster.gateway, TestCluster.wms] {
            #expect(try await HTTP.send(base + "/wms/reservations/\(key)/release", method: .POST, headers: [], body: "{}").status == .notFound)
            #expect(try await HTTP.send(base + "/wms/reservations", method: .POST, headers: [("Content-Type", "application/json")], body: precreate).status == .notFound)
        }
        #expect(try await wmsCall("/wms/reservations/\(key)/release", "{}", caller: nil).status == .unauthorized)
        #expect(try await wmsCall("/wms/reservations", precreate, caller: nil).status == .unauthorized)
        let row = try await Databases.wms.query("SELECT remaining, released FROM wms_reservation WHERE key = \(key)").first
        #expect(try row?.decode("released", as: Bool.self) == false)
        #expect(try row?.decode("remaining", as: Int.self) == 5)
        #expect(try await Databases.count("SELECT count(*) FROM wms_reservation WHERE key = \(next)", in: Databases.wms) == 0)
    }

    @Test("counts that overflow when merged, or break the limits, are a 400 and wms stays healthy")
    func overflowingLock() async throws {
        let sku = try await newSku(stock: 10)
        let bodies = [
            #"{"orderSn":"OVF-\#(sku)","items":[{"skuId":\#(sku),"count":9223372036854775807},{"skuId":\#(sku),"count":1}]}"#,
            #"{"orderSn":"OVF-\#(sku)","items":[{"skuId":\#(sku),"count":6000},{"skuId":\#(sku),"count":6000}]}"#,
            #"{"orderSn":"OVF-\#(sku)","items":[{"skuId":\#(sku),"count":0}]}"#,
            #"{"orderSn":"OVF-\#(sku)","items":[{"skuId":\#(sku),"count":-1}]}"#,
            #"{"orderSn":"OVF-\#(sku)","items":[{"skuId":\#(sku),"count":18446744073709551616}]}"#,
            #"{"orderSn":"OVF-\#(sku)","items":[{"skuId":0,"count":1}]}"#,
            #"{"orderSn":"OVF-\#(sku)","items":[]}"#,
            #"{"orderSn":"","items":[{"skuId":\#(sku),"count":1}]}"#,
            #"{"orderSn":"OVF\u0000\#(sku)","items":[{"skuId":\#(sku),"count":1}]}"#,
            #"{"orderSn":"OVF-\#(sku)","items":[{"skuId":\#(sku),"count":1}],"reservationKey":"x/../y"}"#,
        ]
        for body in bodies {
            let reply = try await wmsCall("/wms/lock", body)
            #expect(reply.status == .badRequest, "\(body): \(reply.status) \(reply.body)")
        }
        #expect(try await HTTP.get(TestCluster.wmsInternal + "/health").status == .ok)
        #expect(try await locks(sku) == 0)
        #expect(try await wmsCall("/wms/lock", #"{"orderSn":"OVF-\#(sku)","items":[{"skuId":\#(sku),"count":2},{"skuId":\#(sku),"count":3}]}"#).status == .ok)
        #expect(try await SkuState.of(sku).locked == 5)
    }

    @Test("an order view needs the buyer's login; another buyer's order answers exactly like a missing one")
    func orderViews() async throws {
        let orderSn = try await Databases.newOrder(member: 1001, price: "88.80")
        let view = TestCluster.gateway + "/oms/order/\(orderSn)"
        #expect(try await HTTP.get(view).status == .unauthorized)
        let theirs = try await HTTP.get(view, headers: try bearer(2002))
        let missing = try await HTTP.get(TestCluster.gateway + "/oms/order/T0000000000000", headers: try bearer(2002))
        #expect(theirs.status == .notFound)
        #expect(theirs.body == missing.body)
        #expect(!theirs.body.contains("88.80"))
        let own = try await HTTP.get(view, headers: try bearer(1001))
        #expect(own.status == .ok)
        #expect(try ShopJSON.decoder.decode(ResponseVo<OrderEntity>.self, from: Data(own.body.utf8)).data?.payAmount == Money("88.80"))

        // pay.html: the same rule, through the gateway.
        let page = TestCluster.gateway + "/pay.html?orderToken=\(orderSn)"
        #expect(try await HTTP.get(page).status == .unauthorized)
        let other = try await HTTP.get(page, headers: try bearer(2002))
        #expect(other.status == .notFound)
        #expect(!other.body.contains("88.80"))
        #expect(try await HTTP.get(page, headers: try bearer(1001)).body.contains("88.80"))

        // The lookup payment makes is internal and needs payment's credential.
        #expect(try await HTTP.get(TestCluster.gateway + "/oms/order/token/\(orderSn)").status == .notFound)
        #expect(try await HTTP.get(TestCluster.omsInternal + "/oms/order/token/\(orderSn)").status == .unauthorized)
        #expect(try await HTTP.get(TestCluster.omsInternal + "/oms/order/token/\(orderSn)", headers: [(ServiceToken.header, TestCluster.serviceToken("seckill", to: "oms"))]).status == .forbidden)
        #expect(try await HTTP.get(TestCluster.omsInternal + "/oms/order/token/\(orderSn)", headers: [(ServiceToken.header, TestCluster.serviceToken("payment", to: "oms"))]).status == .ok)
        #expect(try await HTTP.get(TestCluster.omsInternal + "/oms/order/token/\(orderSn)", headers: [(ServiceToken.header, TestCluster.serviceToken("payment", to: "wms"))]).status == .unauthorized)
    }

    @Test("GET /miaosha/{sku} takes no permit; a buy logged in by cookie needs X-Requested-With")
    func buyingIsAPost() async throws {
        let (sku, session) = try await openSession(stock: 1)
        let buyer = Int64.random(in: 100_000_000...900_000_000)
        let token = try TestKeys.jwtSigner.token(userID: buyer)
        for base in [TestCluster.gateway, TestCluster.seckill] {
            let reply = try await HTTP.get(base + "/miaosha/\(sku)", headers: [("Authorization", "Bearer \(token)")])
            #expect(reply.status == .notFound || reply.status == .methodNotAllowed, "\(base): \(reply.status)")
        }
        #expect(try await SaleState.of(sku: sku, session: session).permits == 1)
        let cookie = ("Cookie", "GMALL-TOKEN=\(token)")
        #expect(try await HTTP.send(TestCluster.gateway + "/miaosha/\(sku)", method: .POST, headers: [cookie], body: nil).status == .forbidden)
        #expect(try await SaleState.of(sku: sku, session: session).permits == 1)
        let bought = try await HTTP.send(TestCluster.gateway + "/miaosha/\(sku)", method: .POST, headers: [cookie, ("X-Requested-With", "gmall")], body: nil)
        #expect(bought.status == .ok)
        #expect(try ShopJSON.decoder.decode(ResponseVo<String>.self, from: Data(bought.body.utf8)).code == 0)
    }

    @Test("through the gateway only the public surface answers: no admin, metrics, internal health or wms; health says UP and nothing more")
    func publicSurfaceOnly() async throws {
        let hidden: [(HTTPMethod, String)] = [
            (.GET, "/metrics"), (.GET, "/payment/metrics"), (.GET, "/seckill/metrics"), (.GET, "/health"), (.GET, "/health/ready"),
            (.GET, "/oms/admin/dlq"), (.POST, "/seckill/admin/sessions"), (.GET, "/wms/health"), (.GET, "/wms/admin/dlq"),
            (.POST, "/wms/reservations"), (.GET, "/oms/order/token/1"), (.GET, "/payment/admin/dlq"),
            (.GET, "/alipay-sim/trade?out_trade_no=1"),
        ]
        for (method, path) in hidden {
            let reply = try await HTTP.send(
                TestCluster.gateway + path, method: method, headers: [("X-Admin-Token", TestCluster.adminToken), ("Content-Type", "application/json")],
                body: method == .POST ? "{}" : nil)
            #expect(reply.status == .notFound, "\(method) \(path): \(reply.status)")
            #expect(reply.body.contains(#""code":404"#), "\(path): \(reply.body)")
        }
        for service in ["payment", "oms", "seckill"] {
            let reply = try await HTTP.get(TestCluster.gateway + "/\(service)/health")
            #expect(reply.status == .ok)
            #expect(reply.body == #"{"status":"UP"}"#)
        }
        #expect(try await HTTP.get(TestCluster.gateway + "/seckill/sessions").status == .ok)
        for method in [HTTPMethod.PUT, .DELETE, .PATCH, .OPTIONS, .RAW(value: "REVIEWERQX")] {
            let reply = try await HTTP.send(TestCluster.gateway + "/seckill/sessions", method: method, headers: [], body: nil)
            #expect(reply.status == .methodNotAllowed, "\(method): \(reply.status)")
            #expect(reply.body.contains(#""code":405"#))
        }
    }

    @Test("the gateway serves the flash-sale page as static files with cache headers, and the session list from a one-second cache")
    func flashSalePage() async throws {
        let page = try await HTTP.get(TestCluster.gateway + "/sale/")
        #expect(page.status == .ok)
        #expect(page.header("Content-Type")?.hasPrefix("text/html") == true)
        #expect(page.header("Cache-Control") == "max-age=300")
        #expect(page.body.contains("sale.js") && page.body.contains("谷粒秒杀"))
        let script = try await HTTP.get(TestCluster.gateway + "/sale/sale.js")
        #expect(script.status == .ok && script.header("Content-Type")?.hasPrefix("application/javascript") == true)
        #expect(try await HTTP.get(TestCluster.gateway + "/sale/nothing-here.html").status == .notFound)
        // Quick reads: at most one reaches seckill (MISS); the others are the gateway's copy (HIT, or
        // STALE/UPDATING while one refreshes it).
        var statuses: [String] = []
        for _ in 0..<3 {
            let list = try await HTTP.get(TestCluster.gateway + "/seckill/sessions")
            #expect(list.status == .ok)
            #expect(list.header("Cache-Control") == "public, max-age=1")
            statuses.append(list.header("X-Cache") ?? "-")
        }
        #expect(statuses.filter { $0 == "MISS" }.count <= 1 && !statuses.contains("-"), "\(statuses)")
    }

    @Test("the gateway's flash-sale limit counts the client the trusted proxy names in X-Forwarded-For, not the proxy")
    func rateLimitPerRealClient() async throws {
        let sku: Int64 = 900_000_000_000 + Int64.random(in: 0..<1_000_000)  // no session: cheap for seckill
        // One buyer (the token is verified once and cached; a sku without a session spends no token
        // of the buyer's own bucket), so only the gateway limits.
        let login = try bearer(Int64.random(in: 100_000_000...900_000_000))
        let total = 1_500
        var statuses: [HTTPResponseStatus] = []
        // 1,500 as fast as one client can against 200/s with a burst of 400: some are 429. A busy
        // machine (the rest of the suite in parallel) may not send them faster than the limit:
        // then the burst is sent again, up to three times.
        for _ in 1...3 where statuses.filter({ $0 == .tooManyRequests }).count < 100 {
            statuses = try await withThrowingTaskGroup(of: [HTTPResponseStatus].self) { group in
                for worker in 0..<32 {
                    group.addTask {
                        var seen: [HTTPResponseStatus] = []
                        for _ in stride(from: worker, to: total, by: 32) {
                            // A pooled keep-alive connection nginx has just closed is the client's
                            // problem, not an answer: count the answers.
                            if let reply = try? await HTTP.send(
                                TestCluster.gateway + "/miaosha/\(sku)", method: .POST, headers: login + [("X-Forwarded-For", "203.0.113.7")], body: nil) {
                                seen.append(reply.status)
                            }
                        }
                        return seen
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
        }
        #expect(statuses.filter { $0 == .tooManyRequests }.count >= 100, "\(statuses.filter { $0 == .tooManyRequests }.count) limited")
        #expect(statuses.count >= total * 9 / 10)
        #expect(statuses.allSatisfy { $0 == .ok || $0 == .tooManyRequests })
        // Another client behind the same proxy is not limited by the first one's burst.
        let other = try await HTTP.send(
            TestCluster.gateway + "/miaosha/\(sku)", method: .POST, headers: try bearer(Int64.random(in: 100_000_000...900_000_000)) + [("X-Forwarded-For", "203.0.113.8")], body: nil)
        #expect(other.status == .ok)
    }

    @Test("NUL characters, invalid UTF-8 and deep or huge JSON are refused with 400 or 413 before they reach a store")
    func hostileBodies() async throws {
        let sku = try await newSku(stock: 10)
        let start = ISO8601DateFormatter().string(from: Date()), end = ISO8601DateFormatter().string(from: Date().addingTimeInterval(60))
        func session(_ name: String) -> String {
            #"{"skuId":\#(sku),"skuName":"\#(name)","price":"1.00","stock":1,"startTime":"\#(start)","endTime":"\#(end)"}"#
        }
        let admin = [("Content-Type", "application/json"), ("X-Admin-Token", TestCluster.adminToken)]
        let url = TestCluster.seckillInternal + "/seckill/admin/sessions"
        #expect(try await HTTP.send(url, method: .POST, headers: admin, body: session(#"nul\u0000name"#)).status == .badRequest)
        #expect(try await HTTP.send(url, method: .POST, headers: admin, body: session("bell\u{7}")).status == .badRequest)
        #expect(try await HTTP.send(url, method: .POST, headers: admin, body: String(repeating: "[", count: 10_000)).status == .badRequest)
        #expect(try await HTTP.send(url, method: .POST, headers: admin, body: String(repeating: "9", count: 70_000)).status == .payloadTooLarge)
        let invalid: [UInt8] = Array(session("name").utf8.prefix(30)) + [0xFF, 0xFE, 0xC0, 0xAF] + Array(session("name").utf8.dropFirst(30))
        #expect(try await HTTP.send(url, method: .POST, headers: admin, bytes: invalid).status == .badRequest)
        #expect(try await smsDatabase.query("SELECT count(*) FROM sms_seckill_session WHERE sku_id = \(sku)").rows.first?.decode(at: 0, as: Int.self) == 0)
    }

    @Test("the database wrapper refuses a parameter holding NUL instead of cutting it short")
    func nulNeverReachesLibpq() async throws {
        await #expect(throws: PostgresError.self) {
            try await Databases.oms.query("SELECT \("before\u{0}after")::text")
        }
        let echoed: String? = try await Databases.oms.query("SELECT \("plain")::text AS t").rows.first?.decode("t")
        #expect(echoed == "plain")
    }
}

/// Stops the shared Redis: runs alone, with the broker tests (`deploy/local/test`).
@Suite("RedisStop: with Redis down a buy is a 503 to retry, never a 500, and services without Redis stay ready", .serialized)
struct RedisStopTests {
    init() async throws { try await TestCluster.shared.start() }

    @Test("Redis stopped: POST /miaosha/{sku} answers 503 with Retry-After and the retry code; after it starts again, buying works")
    func redisDown() async throws {
        let (sku, _) = try await openSession(stock: 5)
        try localServers("stop-redis")
        do {
            // payment and wms use no Redis: they stay ready (Alipay's notifies keep settling).
            for service in [TestCluster.paymentInternal, TestCluster.wmsInternal] {
                let ready = try await HTTP.get(service + "/health/ready")
                #expect(ready.status == .ok, "\(service): \(ready.body)")
            }
            #expect(try await HTTP.get(TestCluster.seckillInternal + "/health/ready").status == .serviceUnavailable)
            for _ in 0..<20 {
                let buyer = Int64.random(in: 100_000_000...900_000_000)
                let reply = try await HTTP.send(TestCluster.gateway + "/miaosha/\(sku)", method: .POST, headers: try bearer(buyer), body: nil)
                #expect(reply.status == .serviceUnavailable, "\(reply.status) \(reply.body)")
                #expect(Int(reply.header("Retry-After") ?? "") ?? 0 >= 1)
                #expect((try? ShopJSON.decoder.decode(ResponseVo<String>.self, from: Data(reply.body.utf8)))?.code == ResponseCode.retry)
            }
        } catch {
            try localServers("start-redis")
            throw error
        }
        try localServers("start-redis")
        let recovered = try await eventually(seconds: 15) {
            try await attempt(sku: sku, buyer: Int64.random(in: 100_000_000...900_000_000)).code == 0
        }
        #expect(recovered)
    }
}
