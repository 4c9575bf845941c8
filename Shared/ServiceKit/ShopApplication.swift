import AMQP
import Foundation
import Hummingbird
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

/// Every service's application type. Concrete on purpose: an opaque `some ApplicationProtocol`
/// across modules left stale executables after incremental builds (a crash at start).
public typealias ShopApplication = Application<RouterResponder<ShopRequestContext>>

/// Assembles a service's application: the public listener (`GMALL_HTTP_HOST`/`PORT`: what the
/// gateway may route to, plus its UP/DOWN health) and the internal listener
/// (`GMALL_INTERNAL_HOST`/`PORT`: service-to-service calls, operator endpoints, health details,
/// metrics), which deployments never publish. The infrastructure's pools and publisher start first,
/// then the internal listener, then `services` (consumers, relays, jobs).
public func makeShopApplication(
    name: String, infrastructure: Infrastructure, publicRouter: Router<ShopRequestContext>,
    internalRouter: Router<ShopRequestContext>, services: [any Service] = [], logger: Logger
) -> ShopApplication {
    publicRouter.addPublicHealth(service: name, infrastructure: infrastructure)
    internalRouter.addInternalOperations(infrastructure: infrastructure)
    let config = infrastructure.config
    let internalListener = Application(
        router: internalRouter,
        configuration: .init(address: .hostname(config.internalHost, port: config.internalPort), serverName: name),
        logger: logger)
    // What this process runs with, secrets redacted: the first thing to read at 3 a.m.
    logger.info("config.effective", metadata: Logger.Metadata(uniqueKeysWithValues: config.effective.map { ("config.\($0.key)", .string($0.value)) }))
    if config.serviceKey == nil {
        logger.error("service.key.missing", metadata: ["config.key": "GMALL_SERVICE_KEY"])
    }
    _ = ShopMetrics.dependencyErrors  // exported (at zero) from the start
    // The dead-letter queues of this service's consumers, sampled for the metrics.
    let consumed = services.compactMap { ($0 as? AMQPConsumer)?.queue }
    let gauges: [any Service] = consumed.isEmpty ? [] : [DeadLetterGauges(endpoint: config.amqp, queues: consumed, logger: logger)]
    return Application(
        router: publicRouter,
        configuration: .init(address: .hostname(config.httpHost, port: config.httpPort), serverName: name),
        services: infrastructure.services + [internalListener] + services + gauges,
        logger: logger)
}
