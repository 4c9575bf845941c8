/// A bounded set of reusable connections, opened lazily; callers beyond the bound wait their turn.
/// The Postgres and Redis pools are this plus their own commands.
public actor ConnectionPool<Connection: Sendable> {
    public let maxConnections: Int
    private let connect: @Sendable () async throws -> Connection
    private var idle: [Connection] = []
    private var open = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private var closed = false
    private let closedError: any Error

    /// - Parameters:
    ///   - maxConnections: the most connections ever open at once.
    ///   - closedError: what `lease` throws once the pool is closed.
    ///   - connect: opens one new connection.
    public init(maxConnections: Int, closedError: any Error, connect: @escaping @Sendable () async throws -> Connection) {
        precondition(maxConnections > 0, "a pool needs at least one connection")
        self.maxConnections = maxConnections
        self.closedError = closedError
        self.connect = connect
    }

    /// Takes an idle connection, opens a new one under the bound, or waits for a release.
    public func lease() async throws -> Connection {
        while true {
            if closed { throw closedError }
            if let connection = idle.popLast() { return connection }
            if open < maxConnections {
                open += 1
                do {
                    return try await connect()
                } catch {
                    open -= 1
                    wakeOne()
                    throw error
                }
            }
            await withCheckedContinuation { waiters.append($0) }
        }
    }

    /// Gives a connection back; a broken one is dropped and frees its place.
    public func release(_ connection: Connection, broken: Bool) {
        if broken || closed { open -= 1 } else { idle.append(connection) }
        wakeOne()
    }

    /// Drops idle connections and refuses later leases.
    public func close() {
        closed = true
        open -= idle.count
        idle.removeAll()
        let pending = waiters
        waiters.removeAll()
        pending.forEach { $0.resume() }
    }

    private func wakeOne() {
        if !waiters.isEmpty { waiters.removeFirst().resume() }
    }
}
