import Foundation

/// Where a service sends its spans: the standard OpenTelemetry variables, read here so that a
/// value the exporter could not use stops the service at start (swift-otel itself would only log
/// it and carry on with its default). Tracing is off unless an OTLP endpoint is set.
///
/// Keys:
/// - `OTEL_EXPORTER_OTLP_ENDPOINT` (the collector's base URL; spans go to `<base>/v1/traces`) or
///   `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (the full URL, used as it is); an `http` or `https` URL;
///   neither set: no spans are made or sent
/// - `OTEL_EXPORTER_OTLP_PROTOCOL` / `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL` = `http/protobuf`, or
///   `http/json` (this build carries the OTLP/HTTP exporter only, not gRPC)
/// - `OTEL_TRACES_SAMPLER` = `parentbased_always_on`; `OTEL_TRACES_SAMPLER_ARG` (a ratio 0…1 for
///   the `traceidratio` samplers)
/// - `OTEL_SERVICE_NAME` = `gmall-<service>`
/// - `OTEL_SDK_DISABLED` = `false`
/// - `OTEL_EXPORTER_OTLP_HEADERS` (secret: may carry the collector's credentials) and swift-otel's
///   other standard variables (`OTEL_BSP_SCHEDULE_DELAY`, `OTEL_EXPORTER_OTLP_TIMEOUT`,
///   `OTEL_EXPORTER_OTLP_CERTIFICATE`, …), passed to it as they are
public struct TracingConfig: Sendable {
    /// The endpoint variable that switched tracing on; nil: tracing is off.
    public var endpoint: String?
    public var serviceName: String
    /// What swift-otel reads its standard variables from (the process's environment).
    public var environment: [String: String]

    public static let samplers: Set<String> = [
        "always_on", "always_off", "traceidratio", "parentbased_always_on", "parentbased_always_off", "parentbased_traceidratio",
    ]
    public static let protocols: Set<String> = ["http/protobuf", "http/json"]

    /// Reads the keys above; unusable values are noted on `env` for its `check()`.
    public init(env: ProcessEnvironment, service: String) {
        environment = env.values
        serviceName = env["OTEL_SERVICE_NAME"] ?? "gmall-\(service)"
        let endpoint = env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] ?? env["OTEL_EXPORTER_OTLP_ENDPOINT"]
        for name in ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"] {
            guard let value = env[name] else { continue }
            let url = URL(string: value)
            if url?.host == nil || !["http", "https"].contains(url?.scheme ?? "") {
                env.refuse(name, "is not an http or https URL")
            }
        }
        for name in ["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"] {
            if let value = env[name], !Self.protocols.contains(value) {
                env.refuse(name, "is not http/protobuf or http/json (this build has no gRPC exporter)")
            }
        }
        if let sampler = env["OTEL_TRACES_SAMPLER"], !Self.samplers.contains(sampler) {
            env.refuse("OTEL_TRACES_SAMPLER", "is not one of " + Self.samplers.sorted().joined(separator: ", "))
        }
        if let argument = env["OTEL_TRACES_SAMPLER_ARG"], Double(argument).map({ (0...1).contains($0) }) != true {
            env.refuse("OTEL_TRACES_SAMPLER_ARG", "is not a ratio between 0 and 1")
        }
        _ = env["OTEL_EXPORTER_OTLP_HEADERS"]  // only to show it (redacted) in the effective configuration
        let disabled = env.bool("OTEL_SDK_DISABLED") ?? false
        self.endpoint = disabled ? nil : endpoint
    }
}
