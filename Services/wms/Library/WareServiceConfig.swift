import Foundation
import ServiceKit

/// Configuration of the wms service.
///
/// Keys: everything in `ServiceConfig` (HTTP port default 18093, database `guli_wms`).
public struct WareServiceConfig: Sendable {
    public var shared: ServiceConfig
    /// The database name, also the migrations sub-folder.
    public let database = "guli_wms"

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        let env = ProcessEnvironment(values: environment)
        shared = ServiceConfig(env: env, service: "wms", defaultPort: 18093, database: "guli_wms")
        try env.check()
        shared.effective = env.effective
    }
}
