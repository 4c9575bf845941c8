import Hummingbird
import Logging
import ServiceKit

/// Builds the wms service: migrations applied, pools, publisher, consumers and routes.
public func buildApplication(_ config: WareServiceConfig) async throws -> some ApplicationProtocol {
    let logger = makeLogger(label: "gmall.wms", level: config.shared.logLevel)
    let infrastructure = Infrastructure(config: config.shared, logger: logger)
    try await infrastructure.migrate(database: config.database)
    let router = Router(context: ShopRequestContext.self)
    return makeShopApplication(name: "wms", infrastructure: infrastructure, router: router, logger: logger)
}
