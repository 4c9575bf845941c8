import Foundation
import Contracts
import Hummingbird
import Logging
import ServiceKit

/// Builds the wms service: stock locks and reservations on the internal listener, `stock.minus` and
/// `stock.unlock` consumers.
public func buildApplication(_ config: WareServiceConfig) async throws -> ShopApplication {
    let logger = makeLogger(label: "gmall.wms", level: config.shared.logLevel, format: config.shared.logFormat)
    let infrastructure = Infrastructure(config: config.shared, usesRedis: false, logger: logger)
    try await infrastructure.migrateOrClose(database: config.database)
    let warehouse = Warehouse(postgres: infrastructure.postgres, logger: logger)
    let publicRouter = Router.shop(.public)
    let internalRouter = Router.shop(.internal)
    WareRoutes(warehouse: warehouse).register(internal: internalRouter, serviceKey: config.shared.serviceKey)
    internalRouter.addDeadLetterAdmin(service: "wms", infrastructure: infrastructure, token: config.shared.adminToken)
    let consumers = [
        // Sales arrive in bursts behind oms's relay: what has arrived shares one commit.
        infrastructure.batchConsumer(for: Messaging.stockMinus, handler: warehouse.stocksMinus),
        infrastructure.consumer(for: Messaging.stockUnlock, handler: warehouse.stockUnlock),
        infrastructure.consumer(for: Messaging.stockReturn, handler: warehouse.stockReturn),
    ]
    return makeShopApplication(
        name: "wms", infrastructure: infrastructure, publicRouter: publicRouter, internalRouter: internalRouter, services: consumers,
        logger: logger)
}

/// `GMALL_MIGRATE_ONLY=true`: the service's migrations, nothing else (a migrations Job).
public func migrateOnly(environment: [String: String] = ProcessInfo.processInfo.environment) async throws {
    try await MigrationJob.run(service: "wms", database: "guli_wms", environment: environment)
}
