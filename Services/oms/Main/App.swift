import OrderService
import ServiceKit

/// `oms`: reads its configuration from the environment and runs until SIGTERM/SIGINT.
@main
struct App {
    static func main() async throws {
        try await ServiceMain.run {
            if MigrationJob.requested { return try await migrateOnly() }
            let config = try OrderServiceConfig()
            try await ServiceMain.serve(config.shared) { try await buildApplication(config) }
        }
    }
}
