import Foundation
import Hummingbird
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

/// The process-wide Prometheus registry behind swift-metrics (bootstrapped once).
public enum MetricsExport {
    public static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }()
}

extension Router where Context == ShopRequestContext {
    /// The public listener's health: `GET /health` and `GET /<service>/health` answer
    /// `{"status":"UP"}` (200) or `{"status":"DOWN"}` (503), no more: which dependency failed, and
    /// how, is for operators (internal listener). Checked at most once a second, however many ask.
    package func addPublicHealth(service: String, infrastructure: Infrastructure) {
        let cached = RecentValue<Bool>(for: .seconds(1))
        let health: @Sendable (Request, ShopRequestContext) async throws -> Response = { _, _ in
            let healthy = try await cached.value { await infrastructure.health().isHealthy }
            var response = try ShopJSON.json(["status": healthy ? "UP" : "DOWN"], status: healthy ? .ok : .serviceUnavailable)
            if !healthy { response.headers[.retryAfter] = "5" }
            return response
        }
        get("/health", use: health)
        get("/\(service)/health", use: health)
    }

    /// The internal listener's operational routes: `GET /health/live` (the process answers),
    /// `GET /health/ready` and `GET /health` (every dependency checked now, with the driver's error
    /// text), `GET /metrics` (Prometheus).
    package func addInternalOperations(infrastructure: Infrastructure) {
        _ = MetricsExport.registry
        let ready: @Sendable (Request, ShopRequestContext) async throws -> Response = { _, _ in
            let report = await infrastructure.health()
            return try ShopJSON.json(report, status: report.isHealthy ? .ok : .serviceUnavailable)
        }
        get("/health", use: ready)
        get("/health/ready", use: ready)
        get("/health/live") { _, _ in try ShopJSON.json(["status": "UP"]) }
        get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(bytes: MetricsExport.registry.emitToBuffer())))
        }
    }
}

/// Builds a logger at the configured level.
public func makeLogger(label: String, level: String) -> Logger {
    var logger = Logger(label: label)
    logger.logLevel = Logger.Level(rawValue: level) ?? .info
    return logger
}

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
    if config.serviceKey == nil {
        logger.error("service.key.missing", metadata: ["config.key": "GMALL_SERVICE_KEY"])
    }
    return Application(
        router: publicRouter,
        configuration: .init(address: .hostname(config.httpHost, port: config.httpPort), serverName: name),
        services: infrastructure.services + [internalListener] + services,
        logger: logger)
}
