import Hummingbird
import Logging
import ServiceKit

/// Builds the oms service: migrations applied, pools, publisher, consumers and routes.
public func buildApplication(_ config: OrderServiceConfig) async throws -> some ApplicationProtocol {
    let logger = makeLogger(label: "gmall.oms", level: config.shared.logLevel)
    let infrastructure = Infrastructure(config: config.shared, logger: logger)
    try await infrastructure.migrate(database: config.database)
    let router = Router(context: ShopRequestContext.self)
    return makeShopApplication(name: "oms", infrastructure: infrastructure, router: router, logger: logger)
}
