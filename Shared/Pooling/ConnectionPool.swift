/// A bounded set of reusable connections, opened lazily; callers beyond the bound wait their turn.
/// The Postgres pool is this plus its own commands. Every connection the pool lets go of (broken
/// on release, idle or given back once the pool is closed) goes through `discard`, which closes
/// it: connections are never just dropped.
public actor ConnectionPool<Connection: Sendable> {
    public let maxConnections: Int
    private let connect: @Sendable () async throws -> Connection
    private let discard: @Sendable (Connection) async -> Void
    private var idle: [Connection] = []
    private var open = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private var closed = false
    private let closedError: any Error
    private let observe: @Sendable (PoolWait) -> Void

    /// - Parameters:
    ///   - maxConnections: the most connections ever open at once.
    ///   - closedError: what `lease` throws once the pool is closed.
    ///   - connect: opens one new connection.
    ///   - discard: closes a connection the pool lets go of.
    ///   - observe: told when a caller starts and stops waiting for a connection (metrics).
    public init(
        maxConnections: Int, closedError: any Error,
        connect: @escaping @Sendable () async throws -> Connection,
        discard: @escaping @Sendable (Connection) async -> Void,
        observe: @escaping @Sendable (PoolWait) -> Void = { _ in }
    ) {
        self.observe = observe
        precondition(maxConnections > 0, "a pool needs at least one connection")
        self.maxConnections = maxConnections
        self.closedError = closedError
        self.connect = connect
        self.discard = discard
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
            let started = ContinuousClock.now
            observe(.waiting(waiters.count + 1))
            await withCheckedContinuation { waiters.append($0) }
            observe(.served(after: ContinuousClock.now - started, waiting: waiters.count))
        }
    }

    /// Gives a connection back; a broken one (or any, once the pool is closed) is closed and frees
    /// its place.
    public func release(_ connection: Connection, broken: Bool) async {
        if broken || closed {
            // Still counted in `open` while it closes, so the bound holds.
            await discard(connection)
            open -= 1
        } else {
            idle.append(connection)
        }
        wakeOne()
    }

    /// Closes idle connections and refuses later leases; connections still leased are closed
    /// when they are released.
    public func close() async {
        closed = true
        let dropped = idle
        idle.removeAll()
        let pending = waiters
        waiters.removeAll()
        pending.forEach { $0.resume() }
        for connection in dropped {
            await discard(connection)
            open -= 1
        }
    }

    private func wakeOne() {
        if !waiters.isEmpty { waiters.removeFirst().resume() }
    }
}
