import AMQP
import Foundation
import Postgres
import Redis
import ServiceKit
@_exported import TestSupport

/// Where the real servers started by `deploy/local/test` listen. A missing server fails the test.
enum TestServers {
    static let env = ProcessEnvironment()
    static let postgresBase = env["GMALL_PG_BASE_URL"] ?? "postgresql://postgres@127.0.0.1:55432"
    static let redisPort = env.int("GMALL_REDIS_PORT") ?? 56379
    static let amqp = AMQPEndpoint(port: env.int("GMALL_AMQP_PORT") ?? 55672)
    static let repositoryRoot = ServiceConfig.repositoryRoot

    /// A pool on `database`, created first if it does not exist. The caller closes the pool.
    static func postgres(database: String = "gmall_test", maxConnections: Int = 4) async throws -> PostgresPool {
        let admin = try await PostgresConnection.connect(url: postgresBase + "/postgres")
        // Closed on every path (`defer` cannot await): a connection dropped unclosed asserts.
        do {
            let exists = try await admin.query("SELECT 1 FROM pg_database WHERE datname = \(database)").rows.count == 1
            if !exists {
                do {
                    try await admin.execute(script: "CREATE DATABASE \"\(database)\"")
                } catch let error as PostgresError where error.sqlState == "42P04" || error.isUniqueViolation {
                    // created concurrently by another test
                }
            }
        } catch {
            await admin.close()
            throw error
        }
        await admin.close()
        return PostgresPool(url: postgresBase + "/" + database, maxConnections: maxConnections)
    }

    /// A Redis pool; the caller closes it.
    static func redis() -> RedisPool { RedisPool(host: "127.0.0.1", port: redisPort, maxConnections: 4) }

    static func servers(_ argument: String) throws { try localServers(argument) }

    static func fixture(_ path: String) throws -> String { try fixtureText(path) }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

