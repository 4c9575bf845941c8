import Foundation
import AsyncHTTPClient
import Contracts
import Hummingbird
import Logging
import Postgres
import ServiceKit
import Signing

/// Builds the oms service: migrations applied, pools, publisher, consumers and routes.
public func buildApplication(_ config: OrderServiceConfig) async throws -> ShopApplication {
    let logger = makeLogger(label: "gmall.oms", level: config.shared.logLevel, format: config.shared.logFormat)
    let infrastructure = Infrastructure(config: config.shared, topology: .gmall(orderTimeoutSeconds: config.closeAfterSeconds), logger: logger)
    let points = PostgresPool(url: config.pointsPostgresURL, maxConnections: config.shared.postgresPoolSize, logger: logger)
    // Until the application owns the pools and the publisher (it runs and closes them), a throw
    // closes them here (`defer` cannot await): each asserts in debug builds that it was closed.
    let buyers: BuyerAuthenticator
    do {
        try await infrastructure.migrate(database: config.database)
        try await Migrator(directory: config.shared.migrationsDirectory + "/" + config.pointsDatabase).migrate(points, logger: logger)
        buyers = BuyerAuthenticator(verifier: JWTVerifier(publicKey: try RSAPublicKey(text: config.jwtPublicKey)))
    } catch {
        await points.close()
        await infrastructure.close()
        throw error
    }
    let orders = PostgresOrderStore(postgres: infrastructure.postgres, closeAfterSeconds: config.closeAfterSeconds)
    let relay = infrastructure.outboxRelay()
    let http = HTTPClient(eventLoopGroupProvider: .singleton)
    let wms = WareClient(baseURL: config.wmsURL, http: http, credential: ServiceCredential(caller: "oms", callee: "wms", key: config.shared.serviceKey))
    let publicRouter = Router.shop(.public)
    let internalRouter = Router.shop(.internal)
    let handlers = OrderMessageHandlers(postgres: infrastructure.postgres, relay: relay, logger: logger)
    let routes = OrderRoutes(
        orders: orders, handlers: handlers,
        checkout: Checkout(postgres: infrastructure.postgres, wms: wms, relay: relay, closeAfterSeconds: config.closeAfterSeconds, logger: logger),
        refunds: OperatorRefunds(postgres: infrastructure.postgres, relay: relay, logger: logger))
    routes.register(public: publicRouter, buyers: buyers)
    routes.register(internal: internalRouter, serviceKey: config.shared.serviceKey, adminToken: config.shared.adminToken)
    let ledger = PointsLedger(postgres: points)
    let flashSale = FlashSaleOrders(
        postgres: infrastructure.postgres, redis: infrastructure.redis, relay: relay, wms: wms,
        closeAfterSeconds: config.closeAfterSeconds, retry: config.shared.amqpRetry, logger: logger)
    let consumers = [
        // Payments and points arrive in bursts behind a busy relay: what has arrived shares one commit.
        infrastructure.batchConsumer(for: Messaging.orderPay, handler: handlers.ordersPaid),
        // Unpaid orders of a sale expire together: closes (each its own order, a conditional
        // UPDATE) run 4 at a time.
        infrastructure.consumer(for: Messaging.orderClose, prefetch: 8, parallelism: 4, handler: handlers.orderClose),
        infrastructure.batchConsumer(for: Messaging.boundPlus, handler: ledger.boundsPlus),
        infrastructure.consumer(for: Messaging.boundMinus, handler: ledger.boundMinus),
        // A crowd's wins become orders in batches (one wms call and one statement each), several
        // batches at a time; a quiet queue's win goes alone, at once.
        infrastructure.batchConsumer(
            for: Messaging.secKill, batchSize: config.seckillBatch, parallelism: config.seckillParallelism, handler: flashSale.secKills),
    ]
    internalRouter.addDeadLetterAdmin(service: "oms", infrastructure: infrastructure, token: config.shared.adminToken)
    return makeShopApplication(
        name: "oms", infrastructure: infrastructure, publicRouter: publicRouter, internalRouter: internalRouter, services: [points, HTTPClientService(client: http), relay] + consumers, logger: logger)
}

/// `GMALL_MIGRATE_ONLY=true`: the service's migrations (orders and points), nothing else (a
/// migrations Job).
public func migrateOnly(environment: [String: String] = ProcessInfo.processInfo.environment) async throws {
    try await MigrationJob.run(
        service: "oms", database: "guli_oms", more: [("guli_ums", OrderServiceConfig.pointsURL(environment: environment))], environment: environment)
}
