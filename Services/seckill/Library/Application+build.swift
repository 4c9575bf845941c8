import AsyncHTTPClient
import Contracts
import Foundation
import Hummingbird
import Logging
import ServiceKit
import Signing

/// Builds the seckill service: sessions (admin open on the internal listener, public listing), the
/// flash-sale attempt, the pay-wait, the `sec.release` consumer and the session keeper.
public func buildApplication(_ config: SeckillServiceConfig) async throws -> ShopApplication {
    let logger = makeLogger(label: "gmall.seckill", level: config.shared.logLevel, format: config.shared.logFormat)
    let infrastructure = Infrastructure(config: config.shared, logger: logger)
    try await infrastructure.migrateOrClose(database: config.database)
    let http = HTTPClient(eventLoopGroupProvider: .singleton)
    let wms = WareClient(baseURL: config.wmsURL, http: http, credential: ServiceCredential(caller: "seckill", callee: "wms", key: config.shared.serviceKey))
    let store = SessionStore(postgres: infrastructure.postgres, redis: infrastructure.redis, wms: wms, logger: logger)
    let calendar = SessionCalendar()
    calendar.replace(with: try await store.active())
    let lease = InstanceLease(postgres: infrastructure.postgres, logger: logger)
    try await lease.acquire()
    let ledger = WinLedger(postgres: infrastructure.postgres, logger: logger)
    // Challenge nonces are signed with a key every instance derives from the service key (a buyer's
    // nonce from one instance is good at another); without one, a key of this process only.
    let challengeKey = config.shared.serviceKey.map { HMACSHA256.mac(key: $0, message: Array("gmall flash-sale challenge".utf8)) }
        ?? (0..<32).map { _ in UInt8.random(in: 0...255) }
    let sale = FlashSale(
        postgres: infrastructure.postgres, redis: infrastructure.redis, publisher: infrastructure.publisher, ledger: ledger, store: store,
        calendar: calendar, numbers: OrderNumbers(lease: lease), config: config,
        challenges: FlashSaleChallenge(key: challengeKey, lifetime: config.challengeLifetime), logger: logger)
    let buyers = BuyerAuthenticator(verifier: JWTVerifier(publicKey: try RSAPublicKey(text: config.jwtPublicKey)))
    let routes = try SeckillRoutes(sale: sale, store: store, calendar: calendar, redis: infrastructure.redis, defaultChallengeBits: config.challengeBits)
    let publicRouter = Router.shop(.public, metrics: false)
    routes.register(public: publicRouter, buyers: buyers)
    let internalRouter = Router.shop(.internal)
    routes.register(internal: internalRouter, adminToken: config.shared.adminToken)
    internalRouter.addDeadLetterAdmin(service: "seckill", infrastructure: infrastructure, token: config.shared.adminToken)

    let keeper = SessionKeeper(store: store, calendar: calendar, interval: config.keeperInterval, reconcileInterval: config.reconcileInterval, logger: logger)
    let releases = infrastructure.consumer(for: Messaging.secRelease, prefetch: 8, parallelism: 4, handler: sale.release)
    return makeShopApplication(
        name: "seckill", infrastructure: infrastructure, publicRouter: publicRouter, internalRouter: internalRouter,
        services: [HTTPClientService(client: http), lease, ledger, keeper, releases], logger: logger)
}

/// `GMALL_MIGRATE_ONLY=true`: the service's migrations, nothing else (a migrations Job).
public func migrateOnly(environment: [String: String] = ProcessInfo.processInfo.environment) async throws {
    try await MigrationJob.run(service: "seckill", database: "guli_sms", environment: environment)
}
