import Foundation
import Logging
import Postgres
import ServiceKit
import Testing

@Suite("Versioned migrations")
struct MigratorTests {
    @Test("every service database migrates, and a second run applies nothing")
    func idempotent() async throws {
        for database in ["guli_payment", "guli_oms", "guli_wms", "guli_ums", "guli_sms"] {
            let scratch = "gmall_migrate_\(database)"
            let admin = try await PostgresConnection.connect(url: TestServers.postgresBase + "/postgres")
            // The connection and the pool are closed on every path (`defer` cannot await): either
            // dropped unclosed asserts, which would crash the test process instead of failing the test.
            do {
                try await admin.execute(script: "DROP DATABASE IF EXISTS \(scratch) WITH (FORCE)")
            } catch {
                await admin.close()
                throw error
            }
            await admin.close()
            let pool = try await TestServers.postgres(database: scratch)
            do {
                let migrator = Migrator(directory: TestServers.repositoryRoot + "/deploy/migrations/" + database)
                try await migrator.migrate(pool, logger: Logger(label: "test"))
                let again = try await migrator.migrate(pool, logger: Logger(label: "test"))
                #expect(again.isEmpty, "\(database) re-applied \(again)")
                let recorded = try await pool.query("SELECT count(*) AS n FROM schema_migrations").rows[0].decode("n", as: Int.self)
                #expect(recorded >= 1)
            } catch {
                await pool.close()
                throw error
            }
            await pool.close()
        }
    }
}
