import Logging
import ServiceLifecycle
import Synchronization

/// A fixed set of pipelined Redis connections shared by every caller (round robin), opened
/// lazily and replaced (and closed) when broken; run as a `Service`. Callers never wait for a
/// lease: their commands queue on a connection and go out with the next batch. An owner that does
/// not run it must call `close()` before dropping it: its connections assert in debug builds that
/// they were closed.
public final class RedisPool: Service, Sendable {
    /// One shared connection's place (a class: a `Mutex` cannot live in an array).
    private final class Slot: Sendable { let connection = Mutex<RedisConnection?>(nil) }
    private let slots: [Slot]
    private let next = Atomic<Int>(0)
    private let closed = Atomic<Bool>(false)
    private let host: String
    private let port: Int
    private let password: String?
    private let logger: Logger

    /// - Parameters: `host`/`port` of the server, `password` (secret, optional), `maxConnections`
    ///   (default 8: connections shared by all callers).
    public init(host: String, port: Int, password: String? = nil, maxConnections: Int = 8, logger: Logger = Logger(label: "gmall.redis")) {
        precondition(maxConnections > 0, "a pool needs at least one connection")
        self.host = host
        self.port = port
        self.password = password
        self.logger = logger
        slots = (0..<maxConnections).map { _ in Slot() }
    }

    public func run() async throws {
        try? await gracefulShutdown()
        close()
    }

    /// Refuses later commands and closes the connections. Each closes on its own queue after the
    /// commands already queued on it; this does not wait for that.
    public func close() {
        closed.store(true, ordering: .relaxed)
        for slot in slots {
            let connection = slot.connection.withLock { current in
                defer { current = nil }
                return current
            }
            if let connection { Task { await connection.close() } }
        }
    }

    /// Sends one command (argument array) on one of the shared connections.
    @discardableResult
    public func send(_ arguments: [String]) async throws -> RESPValue {
        try await connection().send(arguments)
    }

    private func connection() async throws -> RedisConnection {
        guard !closed.load(ordering: .relaxed) else { throw RedisError(kind: .poolClosed, message: "pool closed") }
        let slot = slots[next.wrappingAdd(1, ordering: .relaxed).oldValue % slots.count]
        if let existing = slot.connection.withLock({ $0 }), !existing.isBroken { return existing }
        let fresh: RedisConnection
        do {
            fresh = try await RedisConnection.connect(host: host, port: port, password: password)
        } catch {
            logger.warning("redis.connect.failed", error: error)
            throw error
        }
        // Two callers may connect at once: keep the first healthy one and close the other; a
        // broken one leaves the slot and is closed. If the pool closed meanwhile (checked under
        // the slot's lock, which `close()` takes after setting `closed`), the fresh one is closed.
        let (kept, dropped) = slot.connection.withLock { current -> (RedisConnection?, RedisConnection?) in
            if closed.load(ordering: .relaxed) { return (nil, fresh) }
            if let current, !current.isBroken { return (current, fresh) }
            defer { current = fresh }
            return (fresh, current)
        }
        if let dropped { await dropped.close() }
        guard let kept else { throw RedisError(kind: .poolClosed, message: "pool closed") }
        return kept
    }

    /// `EVALSHA`, falling back to `SCRIPT LOAD` and one retry on `NOSCRIPT`.
    public func evaluate(_ script: RedisScript, keys: [String], arguments: [String]) async throws -> RESPValue {
        let call = ["EVALSHA", script.sha1, String(keys.count)] + keys + arguments
        do {
            return try await send(call)
        } catch let error as RedisError where error.isNoScript {
            logger.debug("redis.script.load", metadata: ["script.sha1": "\(script.sha1)"])
            _ = try await send(["SCRIPT", "LOAD", script.source])
            return try await send(call)
        }
    }
}
