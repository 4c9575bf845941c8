import AMQP
import Foundation

/// Environment lookups where an empty value counts as unset.
public struct ProcessEnvironment: Sendable {
    public let values: [String: String]
    public init(values: [String: String] = ProcessInfo.processInfo.environment) { self.values = values }
    public subscript(_ key: String) -> String? {
        guard let v = values[key], !v.isEmpty else { return nil }
        return v
    }
    public func int(_ key: String) -> Int? { self[key].flatMap { Int($0) } }
}

extension ProcessEnvironment {
    /// A key given inline (`NAME`) or in a file (`NAME_FILE`, else `defaultFile`).
    public func secretOrFile(_ name: String, default defaultFile: String?) throws -> String {
        if let inline = self[name] { return inline }
        guard let path = self[name + "_FILE"] ?? defaultFile else { throw ConfigError("neither \(name) nor \(name)_FILE is set") }
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError("\(name) is not set and \(path) cannot be read (run deploy/local/up to make dev keys)")
        }
    }
}
