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

/// The request context of every service: small bodies only (64 KiB; larger ones get 413).
public struct ShopRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public init(source: Source) { coreContext = .init(source: source) }
    public var maxUploadSize: Int { 64 * 1024 }
}

extension Router where Context == ShopRequestContext {
    /// Adds `GET /health` and `GET /metrics`, also under `/<service>/` for the gateway.
    public func addOperationalRoutes(service: String, infrastructure: Infrastructure) {
        _ = MetricsExport.registry
        let health: @Sendable (Request, ShopRequestContext) async throws -> Response = { _, _ in
            let report = await infrastructure.health()
            let body = try ShopJSON.encoder.encode(report)
            return Response(
                status: report.isHealthy ? .ok : .serviceUnavailable,
                headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
        let metrics: @Sendable (Request, ShopRequestContext) async throws -> Response = { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(bytes: MetricsExport.registry.emitToBuffer())))
        }
        get("/health", use: health)
        get("/\(service)/health", use: health)
        get("/metrics", use: metrics)
        get("/\(service)/metrics", use: metrics)
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

/// Assembles a service's application: its router (with health and metrics added), the
/// infrastructure's pools and publisher first, then `services` (consumers, relays, jobs).
public func makeShopApplication(
    name: String, infrastructure: Infrastructure, router: Router<ShopRequestContext>,
    services: [any Service] = [], logger: Logger
) -> ShopApplication {
    router.addOperationalRoutes(service: name, infrastructure: infrastructure)
    router.middlewares.add(MetricsMiddleware())
    return Application(
        router: router,
        configuration: .init(address: .hostname(infrastructure.config.httpHost, port: infrastructure.config.httpPort), serverName: name),
        services: infrastructure.services + services,
        logger: logger)
}
