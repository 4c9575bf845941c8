import AMQP
import Configuration
import Foundation
import Synchronization

/// The environment as a service reads it, through swift-configuration's `ConfigReader` over the
/// process's variables (`GMALL_PG_POOL_SIZE` is the key `gmall.pg.pool.size`). An empty value
/// counts as unset. A value that is set but cannot be read as its type is never replaced by the
/// default in silence: it is noted, and `check()` refuses the whole configuration with every such
/// value named, so the service stops at start with a clear message. Every value read is kept for
/// `effective` (the configuration logged at start), secrets as `<redacted>`.
public final class ProcessEnvironment: Sendable {
    public let values: [String: String]
    private let reader: ConfigReader
    private let record = Mutex<(read: [String: String], problems: [String])>(([:], []))

    /// Variables whose values are secrets (or may carry one, as a URL with a password): never
    /// printed, in `effective` or anywhere else.
    public static let secretNames: Set<String> = [
        "GMALL_PG_URL", "GMALL_PG_BASE_URL", "GMALL_UMS_PG_URL", "GMALL_REDIS_PASSWORD", "GMALL_AMQP_PASSWORD", "GMALL_SERVICE_KEY",
        "GMALL_ADMIN_TOKEN", "ALIPAY_MERCHANT_PRIVATE_KEY", "ALIPAY_SIM_PRIVATE_KEY", "OTEL_EXPORTER_OTLP_HEADERS",
        "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
    ]

    public init(values: [String: String] = ProcessInfo.processInfo.environment) {
        self.values = values
        reader = ConfigReader(provider: EnvironmentVariablesProvider(environmentVariables: values, secretsSpecifier: .specific(Self.secretNames)))
    }

    static func key(_ name: String) -> ConfigKey { ConfigKey(name.lowercased().split(separator: "_").map(String.init)) }

    public subscript(_ name: String) -> String? {
        guard let value = reader.string(forKey: Self.key(name), isSecret: Self.secretNames.contains(name)), !value.isEmpty else { return nil }
        record.withLock { $0.read[name] = Self.secretNames.contains(name) ? "<redacted>" : value }
        return value
    }

    /// An integer, nil when unset; a value that is not one is noted for `check()`.
    public func int(_ name: String) -> Int? {
        typed(name, "is not an integer") { [reader] _ in reader.int(forKey: Self.key(name)) }
    }

    /// `true` or `false`, nil when unset; anything else is noted for `check()`.
    public func bool(_ name: String) -> Bool? {
        typed(name, "is not true or false") { [reader] _ in reader.bool(forKey: Self.key(name)) }
    }

    /// A comma-separated list of integers, nil when unset; a bad element is noted for `check()`.
    public func ints(_ name: String) -> [Int]? {
        typed(name, "is not a comma-separated list of integers") { text in
            let parts = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            return parts.isEmpty || parts.contains(nil) ? nil : parts.compactMap { $0 }
        }
    }

    /// The value of `name` read by `convert`, nil when unset; set but not convertible, it is noted
    /// (`NAME=value <why>`) for `check()`.
    private func typed<T>(_ name: String, _ why: String, _ convert: (String) -> T?) -> T? {
        guard let text = self[name] else { return nil }
        guard let value = convert(text) else {
            record.withLock { $0.problems.append("\(name)=\(text) \(why)") }
            return nil
        }
        return value
    }

    /// Notes a value that was read but is out of its range (the reader's own checks).
    public func refuse(_ name: String, _ why: String) {
        record.withLock { $0.problems.append("\(name)=\(values[name] ?? "") \(why)") }
    }

    /// Throws one `ConfigError` naming every value that could not be used.
    public func check() throws(ConfigError) {
        let problems = record.withLock { $0.problems }
        guard problems.isEmpty else { throw ConfigError("configuration refused: " + problems.joined(separator: "; ")) }
    }

    /// Every value read so far, by variable name, secrets redacted.
    public var effective: [String: String] { record.withLock { $0.read } }
}

extension ProcessEnvironment {
    /// A key given inline (`NAME`) or in a file (`NAME_FILE`, else `defaultFile`): Kubernetes
    /// mounts a Secret's keys as files. Never printed either way.
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
