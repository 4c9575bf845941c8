import AsyncHTTPClient
import Contracts
import Hummingbird
import Logging
import Postgres
import ServiceKit

/// Builds the oms service: migrations applied, pools, publisher, consumers and routes.
public func buildApplication(_ config: OrderServiceConfig) async throws -> ShopApplication {
    let logger = makeLogger(label: "gmall.oms", level: config.shared.logLevel)
    let infrastructure = Infrastructure(config: config.shared, topology: .gmall(orderTimeoutSeconds: config.closeAfterSeconds), logger: logger)
    try await infrastructure.migrate(database: config.database)
    let points = PostgresPool(url: config.pointsPostgresURL, maxConnections: config.shared.postgresPoolSize, logger: logger)
    try await Migrator(directory: config.shared.migrationsDirectory + "/" + config.pointsDatabase).migrate(points, logger: logger)
    let orders = OrderStore(postgres: infrastructure.postgres)
    let router = Router(context: ShopRequestContext.self)
    router.get("/oms/order/token/:orderSn") { _, context -> Response in
        let orderSn = try context.parameters.require("orderSn")
        guard let order = try await orders.find(orderSn: orderSn) else {
            return try ShopJSON.response(
                ResponseVo<OrderEntity>(code: ResponseCode.notFound, msg: "order \(orderSn) not found", data: nil), status: .notFound)
        }
        return try ShopJSON.response(ResponseVo.ok(order))
    }
    let relay = OutboxRelay(postgres: infrastructure.postgres, publisher: infrastructure.publisher, logger: logger)
    let handlers = OrderMessageHandlers(postgres: infrastructure.postgres, relay: relay, logger: logger)
    let ledger = PointsLedger(postgres: points)
    let http = HTTPClient(eventLoopGroupProvider: .singleton)
    let flashSale = FlashSaleOrders(
        postgres: infrastructure.postgres, redis: infrastructure.redis, relay: relay, http: http, wmsURL: config.wmsURL,
        closeAfterSeconds: config.closeAfterSeconds, logger: logger)
    let consumers = [
        infrastructure.consumer(for: Messaging.orderPay, handler: handlers.orderPaid),
        // Unpaid orders of a sale expire together: closes (each its own order, a conditional
        // UPDATE) run 4 at a time.
        infrastructure.consumer(for: Messaging.orderClose, prefetch: 8, parallelism: 4, handler: handlers.orderClose),
        infrastructure.consumer(for: Messaging.boundPlus, handler: ledger.boundPlus),
        // Each sec.kill is its own order: several at a time (wms lock, order insert, latch).
        infrastructure.consumer(
            for: Messaging.secKill, prefetch: max(16, 2 * config.seckillParallelism), parallelism: config.seckillParallelism,
            handler: flashSale.secKill),
    ]
    router.addDeadLetterAdmin(service: "oms", infrastructure: infrastructure, token: config.shared.adminToken)
    return makeShopApplication(
        name: "oms", infrastructure: infrastructure, router: router, services: [points, HTTPClientService(client: http), relay] + consumers, logger: logger)
}
