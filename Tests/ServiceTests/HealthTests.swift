import Foundation
import Hummingbird
import HummingbirdTesting
import OrderService
import PaymentService
import SeckillService
import Testing
import WareService

/// Decodes a `/health` body.
struct Health: Decodable {
    let status: String
    let checks: [String: String]
}

@Suite("Every service starts, migrates and reports health on its real dependencies")
struct HealthTests {
    func expectHealthy(_ app: some ApplicationProtocol, service: String) async throws {
        try await app.test(.router) { client in
            for path in ["/health", "/\(service)/health"] {
                try await client.execute(uri: path, method: .get) { response in
                    #expect(response.status == .ok, "\(service) \(path): \(String(buffer: response.body))")
                    let health = try JSONDecoder().decode(Health.self, from: Data(buffer: response.body))
                    #expect(health.status == "UP")
                    #expect(Set(health.checks.keys) == ["postgres", "redis", "rabbitmq"])
                }
            }
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
            }
        }
    }

    @Test("payment") func payment() async throws {
        try await expectHealthy(try await PaymentService.buildApplication(PaymentServiceConfig()), service: "payment")
    }

    @Test("oms") func oms() async throws {
        try await expectHealthy(try await OrderService.buildApplication(OrderServiceConfig()), service: "oms")
    }

    @Test("wms") func wms() async throws {
        try await expectHealthy(try await WareService.buildApplication(WareServiceConfig()), service: "wms")
    }

    @Test("seckill") func seckill() async throws {
        try await expectHealthy(try await SeckillService.buildApplication(try SeckillServiceConfig()), service: "seckill")
    }

    @Test("a service whose database is unreachable reports DOWN with 503, not a crash")
    func downWhenDatabaseGone() async throws {
        var config = WareServiceConfig()
        config.shared.postgresURL = "postgresql://postgres@127.0.0.1:1/guli_wms?connect_timeout=2"
        let infrastructure = ServiceKitProbe.infrastructure(config.shared)
        let report = await infrastructure.health()
        #expect(report.status == "DOWN")
        #expect(report.checks["postgres"]?.hasPrefix("DOWN") == true)
        #expect(report.checks["redis"] == "UP")
    }
}
