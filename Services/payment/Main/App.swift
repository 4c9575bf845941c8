import PaymentService
import Logging
import ServiceKit

/// `payment`: reads its configuration from the environment and runs until SIGTERM/SIGINT.
@main
struct App {
    static func main() async throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardOutput(label: $0) }
        try await ServiceMain.run {
            if MigrationJob.requested { return try await migrateOnly() }
            let app = try await buildApplication(try PaymentServiceConfig())
            try await app.runService()
        }
    }
}
