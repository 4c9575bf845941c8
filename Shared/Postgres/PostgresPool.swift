import Logging
import Pooling
import ServiceLifecycle

/// A bounded pool of `PostgresConnection`s, opened lazily, run as a `Service`
/// so it closes its connections on graceful shutdown. An owner that does not run it must call
/// `close()` before dropping it: its connections assert in debug builds that they were closed.
public final class PostgresPool: Service, Sendable {
    private let pool: ConnectionPool<PostgresConnection>
    private let logger: Logger

    /// - Parameters:
    ///   - url: libpq connection string (secret: may carry a password).
    ///   - maxConnections: the bound (default 8).
    ///   - observe: told when callers wait for a connection (metrics).
    public init(
        url: String, maxConnections: Int = 8, logger: Logger = Logger(label: "gmall.postgres"),
        observe: @escaping @Sendable (PoolWait) -> Void = { _ in }
    ) {
        self.logger = logger
        self.pool = ConnectionPool(
            maxConnections: maxConnections,
            closedError: PostgresError(kind: .poolClosed, sqlState: nil, message: "pool closed"),
            connect: {
                do {
                    return try await PostgresConnection.connect(url: url)
                } catch {
                    logger.warning("postgres.connect.failed", error: error)
                    throw error
                }
            },
            discard: { await $0.close() },
            observe: observe)
    }

    /// Waits for shutdown, then closes the pool (see `close()`).
    public func run() async throws {
        try? await gracefulShutdown()
        await pool.close()
    }

    /// Closes the pool: idle connections are closed now, leased ones when they come back; later
    /// leases fail.
    public func close() async { await pool.close() }

    /// Lends a connection to `body`; a broken one is closed, not returned.
    public func withConnection<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        let connection = try await pool.lease()
        do {
            let value = try await body(connection)
            await pool.release(connection, broken: false)
            return value
        } catch {
            let broken = (error as? PostgresError)?.kind == .connection ? true : await connection.isBroken
            await pool.release(connection, broken: broken)
            throw error
        }
    }

    /// Runs `body` inside `BEGIN ... COMMIT`; any thrown error rolls the transaction back.
    /// `BEGIN` goes out with the first statement, in the same hop to the connection's thread:
    /// `body` uses its connection from one task, one statement after another (two statements
    /// started at once could race for the `BEGIN`).
    public func withTransaction<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await withConnection { connection in
            connection.beginWithNextStatement()
            do {
                let value = try await body(connection)
                try await connection.end(commit: true)
                return value
            } catch {
                try? await connection.end(commit: false)
                throw error
            }
        }
    }

    /// Runs `body`'s statements back to back on one pooled connection, in one hop
    /// (`PostgresConnection.session`).
    public func withSession<T: Sendable>(_ body: @escaping @Sendable (PostgresSession) throws -> T) async throws -> T {
        try await withConnection { try await $0.session(body) }
    }

    /// Runs one statement on a pooled connection.
    @discardableResult
    public func query(_ query: PostgresQuery) async throws -> PostgresResult {
        try await withConnection { try await $0.query(query) }
    }
}
