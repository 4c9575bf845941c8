import Foundation
import ServiceKit

/// Configuration of the seckill service.
///
/// Keys: everything in `ServiceConfig` (HTTP port default 18094, database `guli_sms`).
public struct SeckillServiceConfig: Sendable {
    public var shared: ServiceConfig
    /// The database name, also the migrations sub-folder.
    public let database = "guli_sms"

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        shared = ServiceConfig(environment: environment, defaultPort: 18094, database: "guli_sms")
    }
}
