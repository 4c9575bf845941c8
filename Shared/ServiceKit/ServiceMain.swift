import Foundation
import Logging

/// What every executable's `main` runs its work in: logging on standard output (with the current
/// span's `trace_id` and `span_id` when tracing is on); a configuration that cannot be used
/// (`ConfigError`) ends the process with its one-line message and exit status 78 (EX_CONFIG), not
/// with a crash report and a backtrace; any other error is thrown on as before.
public enum ServiceMain {
    public static func run(isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> Void) async throws {
        LoggingSystem.bootstrap(
            { label, metadata in StreamLogHandler.standardOutput(label: label, metadataProvider: metadata) },
            metadataProvider: ShopTracing.logMetadata)
        do {
            try await body()
        } catch let error as ConfigError {
            let name = CommandLine.arguments.first.map { URL(fileURLWithPath: $0).lastPathComponent } ?? "service"
            FileHandle.standardError.write(Data("\(name): \(error)\n".utf8))
            exit(78)
        }
    }

    /// A service's life: tracing started when configured (before the build, whose routers trace
    /// only then), the application built, and run until SIGTERM or SIGINT.
    public static func serve(
        isolation: isolated (any Actor)? = #isolation, _ config: ServiceConfig, build: () async throws -> ShopApplication
    ) async throws {
        let logger = makeLogger(label: "gmall.tracing", level: config.logLevel, format: config.logFormat)
        let exporter = try ShopTracing.bootstrap(config.tracing, logger: logger)
        var app = try await build()
        if let exporter { app.addServices(exporter) }
        try await app.runService()
    }
}
