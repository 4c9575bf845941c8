import AMQP
import Contracts
import Logging
import Postgres
import Redis
import ServiceLifecycle

/// `GET /health` body.
public struct HealthReport: Codable, Sendable {
    public let status: String
    public let checks: [String: String]
    public var isHealthy: Bool { status == "UP" }
}
