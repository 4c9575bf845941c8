import AMQP
import Foundation

/// A configuration value is missing or invalid.
public struct ConfigError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}
