import Foundation
import Logging
import Postgres

/// A service run as a migration job (`GMALL_MIGRATE_ONLY=true`, the Kubernetes migrations Job):
/// applies the migrations of each database, then the process exits without serving. Reads only
/// the database URLs: no keys, no Redis, no RabbitMQ.
public enum MigrationJob {
    public static var requested: Bool { ProcessEnvironment()["GMALL_MIGRATE_ONLY"] == "true" }

    /// Migrates `service`'s own `database` (at `GMALL_PG_URL`) and then `more` (name, also the
    /// migrations sub-folder, and URL).
    public static func run(
        service: String, database: String, more: [(name: String, url: String)] = [],
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) async throws {
        // The listeners' ports play no part in a migration.
        let config = try ServiceConfig(environment: environment, service: service, defaultPort: 0, database: database)
        let logger = makeLogger(label: "gmall.\(service)", level: config.logLevel, format: config.logFormat)
        for database in [(name: database, url: config.postgresURL)] + more {
            let pool = PostgresPool(url: database.url, maxConnections: 1, logger: logger)
            // Closed on every path (`defer` cannot await): a pool dropped with an open connection asserts.
            let applied: [Int]
            do {
                applied = try await Migrator(directory: config.migrationsDirectory + "/" + database.name).migrate(pool, logger: logger)
            } catch {
                await pool.close()
                throw error
            }
            await pool.close()
            logger.info("migration.job.done", metadata: ["db.namespace": "\(database.name)", "migration.applied": "\(applied.count)"])
        }
    }
}
