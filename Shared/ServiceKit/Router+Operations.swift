import Foundation
import Hummingbird
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

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
