import AsyncHTTPClient
import Contracts
import Foundation
import Hummingbird
import Logging
import ServiceKit
import Signing

/// Builds the seckill service: sessions (admin open, public listing), the flash-sale attempt,
/// the pay-wait, the `sec.release` consumer and the session keeper.
public func buildApplication(_ config: SeckillServiceConfig) async throws -> ShopApplication {
    let logger = makeLogger(label: "gmall.seckill", level: config.shared.logLevel)
    let infrastructure = Infrastructure(config: config.shared, logger: logger)
    try await infrastructure.migrate(database: config.database)
    let http = HTTPClient(eventLoopGroupProvider: .singleton)
    let store = SessionStore(
        postgres: infrastructure.postgres, redis: infrastructure.redis, http: http, wmsURL: config.wmsURL, logger: logger)
    let instance = try await infrastructure.redis.send(["INCR", "sec:instance"]).int ?? 0
    let ledger = WinLedger(postgres: infrastructure.postgres, logger: logger)
    let sale = FlashSale(
        postgres: infrastructure.postgres, redis: infrastructure.redis, publisher: infrastructure.publisher, ledger: ledger, store: store,
        numbers: OrderNumbers(instance: instance), config: config, logger: logger)
    let buyers = BuyerAuthenticator(verifier: JWTVerifier(publicKey: try RSAPublicKey(text: config.jwtPublicKey)))
    let router = Router(context: ShopRequestContext.self)

    // The answers that carry no data are the same bytes every time: encode them once.
    let fixedAnswers: [Int: ByteBuffer] = try Dictionary(uniqueKeysWithValues: [AttemptResult.soldOut, .alreadyBought, .notStarted, .ended, .noSession].map {
        ($0.code, ByteBuffer(bytes: try ShopJSON.encoder.encode(ResponseVo<String>(code: $0.code, msg: $0.message, data: nil))))
    })

    @Sendable func attempt(_ request: Request, context: ShopRequestContext) async throws -> Response {
        let buyer = try buyers.buyer(of: request)
        guard let sku = Int64(try context.parameters.require("skuId")), sku > 0 else {
            throw HTTPError(.badRequest, message: "skuId must be a positive number")
        }
        let result = try await sale.attempt(sku: sku, buyer: buyer, logger: context.logger)
        switch result {
        case .won(let orderSn):
            return try ShopJSON.response(ResponseVo(code: 0, msg: "success", data: orderSn))
        case .rateLimited(let ms):
            var response = try ShopJSON.response(ResponseVo<String>(code: result.code, msg: result.message, data: nil), status: .tooManyRequests)
            response.headers[.retryAfter] = String(max(1, (ms + 999) / 1000))
            return response
        case .retry:
            return try ShopJSON.response(ResponseVo<String>(code: result.code, msg: result.message, data: nil), status: .serviceUnavailable)
        default:
            return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: fixedAnswers[result.code]!))
        }
    }
    router.post("/miaosha/:skuId", use: attempt)
    router.get("/miaosha/:skuId", use: attempt)

    router.get("/miaosha/pay") { request, context -> Response in
        let buyer = try buyers.buyer(of: request)
        guard let orderSn = request.uri.queryParameters.get("orderSn"), !orderSn.isEmpty else {
            throw HTTPError(.badRequest, message: "orderSn is required")
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
            return try ShopJSON.response(ResponseVo<String>(code: ResponseCode.notFound, msg: "no such flash-sale order", data: nil), status: .notFound)
        }
    }

    router.get("/seckill/sessions") { _, _ -> Response in
        var sessions = try await store.active().filter { $0.endTime > Date() }
        for i in sessions.indices {
            sessions[i].permitsLeft = try await infrastructure.redis.send(["GET", FlashSaleKeys.permits(sessions[i].skuId)]).int.map(Int.init)
        }
        return try ShopJSON.response(ResponseVo.ok(sessions))
    }

    router.post("/seckill/admin/sessions") { request, context -> Response in
        guard let token = config.shared.adminToken, request.headers[.init("X-Admin-Token")!] == token else {
            throw HTTPError(.forbidden, message: "admin token required (GMALL_ADMIN_TOKEN)")
        }
        let body = try await request.decode(as: OpenSessionRequest.self, context: context)
        do {
            let session = try await store.open(body)
            context.logger.info("seckill.session.opened", metadata: ["seckill.session": "\(session.id)", "seckill.sku": "\(session.skuId)"])
            return try ShopJSON.response(ResponseVo.ok(session))
        } catch let refusal as SessionRefusal {
            return try ShopJSON.response(ResponseVo<FlashSaleSession>(code: ResponseCode.conflict, msg: refusal.description, data: nil), status: .conflict)
        }
    }
    router.addDeadLetterAdmin(service: "seckill", infrastructure: infrastructure, token: config.shared.adminToken)

    let keeper = SessionKeeper(store: store, interval: config.keeperInterval, logger: logger)
    let releases = infrastructure.consumer(for: Messaging.secRelease, prefetch: 8, parallelism: 4, handler: sale.release)
    return makeShopApplication(
        name: "seckill", infrastructure: infrastructure, router: router,
        services: [HTTPClientService(client: http), ledger, keeper, releases], logger: logger)
}
