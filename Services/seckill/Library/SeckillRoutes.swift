import Contracts
import Foundation
import Hummingbird
import Redis
import ServiceKit
import Synchronization

/// seckill's HTTP side. Public: the buy (`POST /miaosha/{skuId}`: a link or a prefetch never buys),
/// the pay-wait and the session list. Internal: opening a session (admin token).
struct SeckillRoutes: Sendable {
    let sale: FlashSale
    let store: SessionStore
    let calendar: SessionCalendar
    let redis: RedisPool
    /// A new session's proof-of-work unless its request says otherwise.
    let defaultChallengeBits: Int
    /// The answers that carry no data are the same bytes every time: encoded once.
    let fixedAnswers: [Int: ByteBuffer]
    /// `gmall_flash_sale_attempts_total{result}`, one counter per answer, made once.
    static let attempts: [String: ShopCounter] = Dictionary(uniqueKeysWithValues: AttemptResult.metricLabels.map {
        ($0, ShopMetrics.counter("gmall_flash_sale_attempts_total", "Flash-sale buy attempts, by the answer the buyer got.", [("result", $0)]))
    })
    /// The public session list, made at most once a second however many ask (a crowd refreshing
    /// the page costs PostgreSQL one query a second).
    let sessionList = RecentValue<ByteBuffer>(for: .seconds(1))

    init(sale: FlashSale, store: SessionStore, calendar: SessionCalendar, redis: RedisPool, defaultChallengeBits: Int) throws {
        self.sale = sale
        self.store = store
        self.calendar = calendar
        self.redis = redis
        self.defaultChallengeBits = defaultChallengeBits
        _ = Self.attempts  // the counters exist (at zero) from the start
        fixedAnswers = try Dictionary(uniqueKeysWithValues: [AttemptResult.soldOut, .alreadyBought, .notStarted, .ended, .noSession].map {
            ($0.code, ByteBuffer(bytes: try ShopJSON.encoder.encode(ResponseVo<String>(code: $0.code, msg: $0.message, data: nil))))
        })
    }

    /// `router` made with `Router.shop(.public, metrics: false)`: the buy is the crowd's route and is not
    /// counted per request; everything registered after it is.
    func register(public router: Router<ShopRequestContext>, buyers: BuyerAuthenticator) {
        router.group().add(middleware: BuyerAuthMiddleware(buyers)).post("/miaosha/:skuId", use: attempt)
        router.countRequests()
        router.group().add(middleware: BuyerAuthMiddleware(buyers)).get("/miaosha/pay", use: payWait)
        router.group().add(middleware: BuyerAuthMiddleware(buyers)).get("/miaosha/challenge", use: challenge)
        router.get("/seckill/sessions", use: sessions)
    }

    func register(internal router: Router<ShopRequestContext>, adminToken: String?) {
        router.group("/seckill/admin").add(middleware: AdminAuthMiddleware(token: adminToken)).post("sessions", use: openSession)
    }

    @Sendable func attempt(_ request: Request, context: ShopRequestContext) async throws -> Response {
        let buyer = try context.requireBuyer()
        guard let sku = Int64(try context.parameters.require("skuId")), InputLimits.id.contains(sku) else {
            throw ShopError.badRequest("skuId must be within 1...\(InputLimits.id.upperBound)")
        }
        let query = request.uri.queryParameters
        let proof = FlashSale.Proof(
            code: query.get("code").map { String($0) }, nonce: query.get("nonce").map { String($0) }, answer: query.get("answer").map { String($0) })
        let result = try await sale.attempt(sku: sku, buyer: buyer, proof: proof, logger: context.logger)
        Self.attempts[result.metricLabel]?.increment()
        switch result {
        case .won(let orderSn):
            return try ShopJSON.response(ResponseVo(code: 0, msg: "success", data: orderSn))
        case .rateLimited(let ms):
            throw ShopError(status: .tooManyRequests, code: result.code, message: result.message, retryAfter: max(1, (ms + 999) / 1000))
        case .retry:
            throw ShopError.unavailable(result.message)
        case .wrongCode, .challengeRefused:
            throw ShopError(status: .forbidden, code: result.code, message: result.message)
        case .soldOut, .alreadyBought, .notStarted, .ended, .noSession:
            return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: fixedAnswers[result.code]!))
        }
    }

    @Sendable func payWait(_ request: Request, context: ShopRequestContext) async throws -> Response {
        let buyer = try context.requireBuyer()
        guard let orderSn = request.uri.queryParameters.get("orderSn"), (try? Input.orderNumber(orderSn)) != nil else {
            throw ShopError.badRequest("orderSn must be an order number")
        }
        switch try await sale.waitForOrder(orderSn: orderSn, buyer: buyer) {
        case .ready:
            return Response(status: .found, headers: [.location: "/pay.html?orderToken=\(orderSn)"])
        case .soldOut:
            return try ShopJSON.response(ResponseVo<String>(code: AttemptResult.soldOut.code, msg: "sold out", data: orderSn))
        case .processing:
            var response = try ShopJSON.response(ResponseVo<String>(code: 202, msg: "processing", data: orderSn), status: .accepted)
            response.headers[.retryAfter] = "1"
            return response
        case .notFound:
            throw ShopError.notFound("no such flash-sale order")
        }
    }

    /// `GET /miaosha/challenge?skuId=S` (buyer login): a proof-of-work nonce for the sku's session
    /// now (running or next), bound to the buyer; `bits` 0 when the session asks for none.
    @Sendable func challenge(_ request: Request, context: ShopRequestContext) async throws -> Response {
        let buyer = try context.requireBuyer()
        guard let sku = request.uri.queryParameters.get("skuId").flatMap({ Int64($0) }), InputLimits.id.contains(sku) else {
            throw ShopError.badRequest("skuId must be within 1...\(InputLimits.id.upperBound)")
        }
        guard let session = calendar.session(for: sku, at: Date()) else { throw ShopError.notFound("no flash sale for this sku") }
        let issued = ChallengeIssued(
            sessionId: session.id, bits: session.challengeBits,
            nonce: session.challengeBits > 0 ? sale.challenges.nonce(buyer: buyer, session: session.id) : "")
        return try ShopJSON.response(ResponseVo.ok(issued))
    }

    @Sendable func sessions(_ request: Request, context: ShopRequestContext) async throws -> Response {
        let body = try await sessionList.value { [calendar, redis] in
            let now = Date()
            // From memory (the calendar the buys use, kept by the keeper), not PostgreSQL: the list,
            // and with it the code at the start, does not depend on the database at the peak. The
            // code only from the start (a list made just before the start shows it a second later).
            var sessions = calendar.all().filter { $0.endTime > now }.map { $0.listed(at: now) }
            for i in sessions.indices {
                sessions[i].permitsLeft = try await redis.send(["GET", FlashSaleKeys.permits(sessions[i].skuId, session: sessions[i].id)]).int.map(Int.init)
            }
            return ByteBuffer(bytes: try ShopJSON.encoder.encode(ResponseVo.ok(sessions)))
        }
        // The gateway caches the list for a second and serves a copy at most another second old
        // while it refreshes (a crowd never waits; a late poll never gets a minute-old copy).
        return Response(
            status: .ok,
            headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "public, max-age=1, stale-while-revalidate=1"],
            body: .init(byteBuffer: body))
    }

    @Sendable func openSession(_ request: Request, context: ShopRequestContext) async throws -> Response {
        let body = try await request.decodeJSON(as: OpenSessionRequest.self, context: context)
        do {
            let session = try await store.open(body, defaultChallengeBits: defaultChallengeBits)
            calendar.insert(session)
            context.logger.info("seckill.session.opened", metadata: ["seckill.session": "\(session.id)", "seckill.sku": "\(session.skuId)"])
            return try ShopJSON.response(ResponseVo.ok(session))
        } catch let refusal as SessionRefusal {
            throw ShopError.conflict(refusal.description)
        }
    }
}

/// `GET /miaosha/challenge` answer.
struct ChallengeIssued: Codable, Sendable {
    var sessionId: Int64
    /// Leading zero bits `SHA-256("<nonce>:<code>:<answer>")` must have (0: no challenge).
    var bits: Int
    var nonce: String
}
