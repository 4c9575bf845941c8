import Foundation
import ServiceKit

/// Configuration of the payment service.
///
/// Keys: everything in `ServiceConfig` (HTTP port default 18092, database `guli_payment`).
public struct PaymentServiceConfig: Sendable {
    public var shared: ServiceConfig
    /// The database name, also the migrations sub-folder.
    public let database = "guli_payment"

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        shared = ServiceConfig(environment: environment, defaultPort: 18092, database: "guli_payment")
    }
}
