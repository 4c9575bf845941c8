import AMQP
import Foundation
import Postgres
import Redis
import ServiceKit

/// Where the real servers started by `deploy/local/test` listen. A missing server fails the test.
enum TestServers {
    static let env = ProcessEnvironment()
    static let postgresBase = env["GMALL_PG_BASE_URL"] ?? "postgresql://postgres@127.0.0.1:55432"
    static let redisPort = env.int("GMALL_REDIS_PORT") ?? 56379
    static let amqp = AMQPEndpoint(port: env.int("GMALL_AMQP_PORT") ?? 55672)
    static let repositoryRoot = ServiceConfig.repositoryRoot

    /// A pool on `database`, created first if it does not exist.
    static func postgres(database: String = "gmall_test", maxConnections: Int = 4) async throws -> PostgresPool {
        let admin = try await PostgresConnection.connect(url: postgresBase + "/postgres")
        let exists = try await admin.query("SELECT 1 FROM pg_database WHERE datname = \(database)").rows.count == 1
        if !exists {
            do {
                try await admin.execute(script: "CREATE DATABASE \"\(database)\"")
            } catch let error as PostgresError where error.sqlState == "42P04" || error.isUniqueViolation {
                // created concurrently by another test
            }
        }
        return PostgresPool(url: postgresBase + "/" + database, maxConnections: maxConnections)
    }

    static func redis() -> RedisPool { RedisPool(host: "127.0.0.1", port: redisPort, maxConnections: 4) }

    /// Runs `deploy/local/servers <argument>` (e.g. `restart-rabbitmq`) and waits for it.
    /// (posix_spawn + waitpid: Foundation's `Process.waitUntilExit` can hang when the script
    /// leaves a detached daemon behind.)
    static func servers(_ argument: String) throws {
        let args = ["/bin/bash", repositoryRoot + "/deploy/local/servers", argument]
        var cArgs = args.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, "/bin/bash", nil, nil, &cArgs, environ) == 0 else { throw TestFailure("cannot spawn \(args)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        guard status == 0 else { throw TestFailure("servers \(argument) exited with status \(status)") }
    }

    static func fixture(_ path: String) throws -> String {
        let url = Bundle.module.url(forResource: "Fixtures/" + path, withExtension: nil)!
        return try String(contentsOf: url, encoding: .utf8)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// Polls `condition` until it holds or `seconds` pass.
func eventually(seconds: Double = 10, _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await condition() { return true }
        try await Task.sleep(nanoseconds: 50_000_000)
    }
    return try await condition()
}
