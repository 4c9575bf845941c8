import Foundation
import Logging
import Postgres

/// Applies versioned SQL files (`V001__name.sql`, ...) from a folder, each once, in order, each
/// in its own transaction, recorded in `schema_migrations`. Several instances starting together
/// serialise on an advisory lock. An applied file whose text changed is an error.
public struct Migrator: Sendable {
    public let directory: String
    public init(directory: String) { self.directory = directory }

    /// Applies what is missing; returns the versions applied now.
    @discardableResult
    public func migrate(_ pool: PostgresPool, logger: Logger) async throws -> [Int] {
        let files = try migrationFiles()
        return try await pool.withConnection { connection in
            try await connection.query("SELECT pg_advisory_lock(7261001)")
            do {
                try await connection.execute(script: """
                    CREATE TABLE IF NOT EXISTS schema_migrations (
                        version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
                        applied_at timestamptz NOT NULL DEFAULT now())
                    """)
                var applied: [Int] = []
                for file in files {
                    let rows = try await connection.query("SELECT checksum FROM schema_migrations WHERE version = \(file.version)").rows
                    if let row = rows.first {
                        let recorded: String = try row.decode("checksum")
                        guard recorded == file.checksum else {
                            throw MigrationError("migration \(file.name) changed after it was applied")
                        }
                        continue
                    }
                    try await connection.execute(script: "BEGIN;\n\(file.sql)\n;")
                    do {
                        try await connection.query("INSERT INTO schema_migrations (version, name, checksum) VALUES (\(file.version), \(file.name), \(file.checksum))")
                        try await connection.query("COMMIT")
                    } catch {
                        _ = try? await connection.query("ROLLBACK")
                        throw error
                    }
                    logger.info("migration.applied", metadata: ["migration.name": "\(file.name)"])
                    applied.append(file.version)
                }
                try await connection.query("SELECT pg_advisory_unlock(7261001)")
                return applied
            } catch {
                _ = try? await connection.query("ROLLBACK")
                _ = try? await connection.query("SELECT pg_advisory_unlock(7261001)")
                throw error
            }
        }
    }

    struct File {
        let version: Int
        let name: String
        let sql: String
        var checksum: String {
            // FNV-1a 64: enough to notice an edited file.
            var h: UInt64 = 0xcbf29ce484222325
            for b in sql.utf8 { h = (h ^ UInt64(b)) &* 0x100000001b3 }
            return String(h, radix: 16)
        }
    }

    func migrationFiles() throws -> [File] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".sql") }
        return try names.compactMap { name -> File? in
            guard name.first == "V", let sep = name.range(of: "__"), let version = Int(name[name.index(after: name.startIndex)..<sep.lowerBound]) else {
                throw MigrationError("migration file \(name) is not named V<version>__<name>.sql")
            }
            let sql = try String(contentsOfFile: directory + "/" + name, encoding: .utf8)
            return File(version: version, name: name, sql: sql)
        }.sorted { $0.version < $1.version }
    }
}
