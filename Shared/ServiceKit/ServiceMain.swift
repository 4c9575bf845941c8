import Foundation

/// What every executable's `main` runs its work in: a configuration that cannot be used
/// (`ConfigError`) ends the process with its one-line message and exit status 78 (EX_CONFIG), not
/// with a crash report and a backtrace; any other error is thrown on as before.
public enum ServiceMain {
    public static func run(isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as ConfigError {
            let name = CommandLine.arguments.first.map { URL(fileURLWithPath: $0).lastPathComponent } ?? "service"
            FileHandle.standardError.write(Data("\(name): \(error)\n".utf8))
            exit(78)
        }
    }
}
