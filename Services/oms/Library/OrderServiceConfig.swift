import Foundation
import ServiceKit

/// Configuration of the oms service.
///
/// Keys: everything in `ServiceConfig` (HTTP port default 18091, database `guli_oms`).
public struct OrderServiceConfig: Sendable {
    public var shared: ServiceConfig
    /// The database name, also the migrations sub-folder.
    public let database = "guli_oms"

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        shared = ServiceConfig(environment: environment, defaultPort: 18091, database: "guli_oms")
    }
}
