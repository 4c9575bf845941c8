import Foundation
import Testing
import OrderService
import PaymentService
import SeckillService
import WareService

/// Decodes a `/health` body.
struct Health: Decodable {
    let status: String
    let checks: [String: String]
}

/// The services under test are the running test cluster's own: a second instance built here would
/// attach consumers to the same queues and take messages meant for the cluster.
@Suite("Every service starts, migrates and reports health on its real dependencies")
struct HealthTests {
    init() async throws { try await TestCluster.shared.start() }

    /// seckill may be mid-restart in another suite: give it a moment.
    func healthy(_ url: String) async throws -> HTTP.Reply {
        var reply = try await HTTP.get(url)
        for _ in 0..<20 where reply.status != .ok {
            try await Task.sleep(for: .milliseconds(250))
            reply = try await HTTP.get(url)
        }
        return reply
    }

    /// The public listener says UP and nothing more; the internal one names every dependency,
    /// answers liveness and readiness, and serves the metrics.
    func expectHealthy(_ base: String, internal: String, service: String, dependencies: Set<String> = ["postgres", "redis", "rabbitmq"]) async throws {
        for path in ["/health", "/\(service)/health"] {
            let reply = try await healthy(base + path)
            #expect(reply.status == .ok, "\(service) \(path): \(reply.body)")
            #expect(reply.body == #"{"status":"UP"}"#)
        }
        for path in ["/health", "/health/ready"] {
            let reply = try await healthy(`internal` + path)
            #expect(reply.status == .ok, "\(service) internal \(path): \(reply.body)")
            let health = try JSONDecoder().decode(Health.self, from: Data(reply.body.utf8))
            #expect(health.status == "UP")
            #expect(Set(health.checks.keys) == dependencies)
        }
        #expect(try await HTTP.get(`internal` + "/health/live").status == .ok)
        let metrics = try await HTTP.get(`internal` + "/metrics")
        #expect(metrics.status == .ok)
        #expect(metrics.header("Content-Type")?.hasPrefix("text/plain") == true)
        #expect(try await HTTP.get(base + "/metrics").status == .notFound)
    }

    @Test("payment (no Redis)") func payment() async throws {
        try await expectHealthy(TestCluster.payment, internal: TestCluster.paymentInternal, service: "payment", dependencies: ["postgres", "rabbitmq"])
    }
    @Test("oms") func oms() async throws { try await expectHealthy(TestCluster.oms, internal: TestCluster.omsInternal, service: "oms") }
    @Test("wms (no Redis)") func wms() async throws {
        try await expectHealthy(TestCluster.wms, internal: TestCluster.wmsInternal, service: "wms", dependencies: ["postgres", "rabbitmq"])
    }
    @Test("seckill") func seckill() async throws { try await expectHealthy(TestCluster.seckill, internal: TestCluster.seckillInternal, service: "seckill") }

    @Test("a service whose database is unreachable reports DOWN with 503, not a crash")
    func downWhenDatabaseGone() async throws {
        var config = try WareServiceConfig()
        config.shared.postgresURL = "postgresql://postgres@127.0.0.1:1/guli_wms?connect_timeout=2"
        let infrastructure = ServiceKitProbe.infrastructure(config.shared)
        let report = await infrastructure.health()
        // Not run as services, so closed here: its pools and publisher assert they were closed.
        await infrastructure.close()
        #expect(report.status == "DOWN")
        #expect(report.checks["postgres"]?.hasPrefix("DOWN") == true)
        #expect(report.checks["redis"] == "UP")
    }

    @Test("a migrations job (GMALL_MIGRATE_ONLY) applies each service's migrations again harmlessly and returns without serving")
    func migrationsJob() async throws {
        var env = ProcessInfo.processInfo.environment
        env["GMALL_MIGRATE_ONLY"] = "true"
        try await WareService.migrateOnly(environment: env)
        try await OrderService.migrateOnly(environment: env)
        try await PaymentService.migrateOnly(environment: env)
        try await SeckillService.migrateOnly(environment: env)
        let applied = try await Databases.count("SELECT count(*) FROM schema_migrations", in: Databases.ums)
        #expect(applied >= 1)
    }
}
