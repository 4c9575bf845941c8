import CHiredis
import Dispatch
import Foundation
import Logging
import Pooling
import Synchronization
import ServiceLifecycle

/// A Redis reply, decoded from hiredis's `redisReply`.
public enum RESPValue: Sendable, Equatable {
    case null
    case string(String)
    case integer(Int64)
    case array([RESPValue])
    case status(String)

    /// The value as an integer (integers, or numeric strings).
    public var int: Int64? {
        switch self {
        case .integer(let v): v
        case .string(let s): Int64(s)
        default: nil
        }
    }

    /// The value as a string (bulk strings and status replies).
    public var string: String? {
        switch self {
        case .string(let s), .status(let s): s
        case .integer(let v): String(v)
        default: nil
        }
    }

    public var array: [RESPValue]? {
        if case .array(let a) = self { return a }
        return nil
    }
}

/// Every hiredis failure, as one typed error.
public struct RedisError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// Could not connect, or the connection broke (I/O, EOF, protocol).
        case connection
        /// The server answered with an error reply (e.g. `NOSCRIPT`, `WRONGTYPE`).
        case server
        case poolClosed
    }

    public let kind: Kind
    public let message: String
    public var description: String { "RedisError(\(kind)): \(message)" }

    public init(kind: Kind, message: String) {
        self.kind = kind
        self.message = message
    }

    /// The server does not know the script's SHA1 (after `SCRIPT FLUSH` or a restart).
    public var isNoScript: Bool { kind == .server && message.hasPrefix("NOSCRIPT") }
}

/// Owns one `redisContext*`; `redisFree` runs in `deinit`.
///
/// `@unchecked Sendable`: only used on its `RedisConnection`'s serial queue.
final class RedisContextHandle: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<redisContext>

    init(pointer: UnsafeMutablePointer<redisContext>) { self.pointer = pointer }

    deinit { redisFree(pointer) }

    var isBroken: Bool { pointer.pointee.err != 0 }

    var errorMessage: String {
        withUnsafeBytes(of: pointer.pointee.errstr) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
    }
}

/// One Redis connection whose blocking hiredis calls run on its own serial queue. Commands from
/// concurrent callers are pipelined: whatever is pending when the queue gets to it is written in
/// one go (`redisAppendFormattedCommand`), then the replies are read in order (`redisGetReply`).
/// One connection serves many callers at once, so commands that hold a connection (`MULTI`,
/// `WATCH`, blocking pops, `SUBSCRIBE`) must not be sent through it.
public final class RedisConnection: Sendable {
    private let handle: RedisContextHandle
    private let queue: DispatchQueue
    private struct Pending: Sendable {
        let command: [UInt8]
        let continuation: CheckedContinuation<RESPValue, any Error>
    }
    private let pending = BatchQueue<Pending>()
    private let broken = Atomic<Bool>(false)

    /// Connects to `host:port` with a timeout, selecting database `database`.
    public static func connect(host: String, port: Int, password: String? = nil, database: Int = 0, timeoutMilliseconds: Int = 2000) async throws -> RedisConnection {
        let queue = DispatchQueue(label: "gmall.redis.connection")
        let handle: RedisContextHandle = try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result {
                    guard let ctx = redisConnectWithTimeout(host, Int32(port), gmall_timeval_ms(timeoutMilliseconds)) else {
                        throw RedisError(kind: .connection, message: "out of memory")
                    }
                    let handle = RedisContextHandle(pointer: ctx)
                    if handle.isBroken { throw RedisError(kind: .connection, message: handle.errorMessage) }
                    redisSetTimeout(ctx, gmall_timeval_ms(max(timeoutMilliseconds, 5000)))
                    return handle
                })
            }
        }
        let connection = RedisConnection(handle: handle, queue: queue)
        if let password { _ = try await connection.send(["AUTH", password]) }
        if database != 0 { _ = try await connection.send(["SELECT", String(database)]) }
        return connection
    }

    private init(handle: RedisContextHandle, queue: DispatchQueue) {
        self.handle = handle
        self.queue = queue
    }

    /// True after an I/O or protocol error: the pool replaces the connection.
    public var isBroken: Bool { broken.load(ordering: .acquiring) }

    /// Sends one command given as an argument array (`["SET", key, value]`).
    public func send(_ arguments: [String]) async throws -> RESPValue {
        let command = Self.encode(arguments)
        return try await withCheckedThrowingContinuation { continuation in
            if pending.add(Pending(command: command, continuation: continuation)) { queue.async { self.drain() } }
        }
    }

    /// The command in the protocol's own framing: `*N`, then `$len` and the bytes of each argument.
    static func encode(_ arguments: [String]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(16 + arguments.reduce(0) { $0 + $1.utf8.count + 16 })
        func line(_ marker: UInt8, _ n: Int) {
            out.append(marker)
            out.append(contentsOf: String(n).utf8)
            out.append(13); out.append(10)
        }
        line(UInt8(ascii: "*"), arguments.count)
        for argument in arguments {
            line(UInt8(ascii: "$"), argument.utf8.count)
            out.append(contentsOf: argument.utf8)
            out.append(13); out.append(10)
        }
        return out
    }

    /// On `queue`: writes every pending command, then reads their replies, until none is left.
    private func drain() {
        while true {
            let batch = pending.takeAll()
            if batch.isEmpty { return }
            if handle.isBroken {
                fail(batch[...], RedisError(kind: .connection, message: handle.errorMessage))
                continue
            }
            var written = 0
            for item in batch {
                let status = item.command.withUnsafeBufferPointer { bytes in
                    bytes.withMemoryRebound(to: CChar.self) { redisAppendFormattedCommand(handle.pointer, $0.baseAddress, $0.count) }
                }
                guard status == REDIS_OK else { break }
                written += 1
            }
            for (index, item) in batch.enumerated() {
                var raw: UnsafeMutableRawPointer?
                guard index < written, redisGetReply(handle.pointer, &raw) == REDIS_OK, let raw else {
                    let message = handle.isBroken ? handle.errorMessage : "could not queue the command"
                    fail(batch[index...], RedisError(kind: .connection, message: message))
                    break
                }
                let reply = raw.assumingMemoryBound(to: redisReply.self)
                let value = Result { try Self.decode(reply) }
                freeReplyObject(raw)
                item.continuation.resume(with: value)
            }
        }
    }

    /// Fails `items` and marks the connection broken (the replies no longer line up).
    private func fail(_ items: ArraySlice<Pending>, _ error: RedisError) {
        broken.store(true, ordering: .releasing)
        for item in items { item.continuation.resume(throwing: error) }
    }

    private static func decode(_ reply: UnsafeMutablePointer<redisReply>) throws -> RESPValue {
        let r = reply.pointee
        func text() -> String {
            guard let s = r.str else { return "" }
            return String(decoding: UnsafeRawBufferPointer(start: s, count: Int(r.len)), as: UTF8.self)
        }
        switch r.type {
        case REDIS_REPLY_STRING: return .string(text())
        case REDIS_REPLY_STATUS: return .status(text())
        case REDIS_REPLY_INTEGER: return .integer(Int64(r.integer))
        case REDIS_REPLY_NIL: return .null
        case REDIS_REPLY_ERROR: throw RedisError(kind: .server, message: text())
        case REDIS_REPLY_ARRAY:
            var items: [RESPValue] = []
            items.reserveCapacity(Int(r.elements))
            for i in 0..<Int(r.elements) {
                guard let element = gmall_redis_element(reply, i) else { items.append(.null); continue }
                // An error inside an array (e.g. from EXEC) is kept as its message.
                if element.pointee.type == REDIS_REPLY_ERROR {
                    items.append(.status(String(cString: element.pointee.str)))
                } else {
                    items.append(try decode(element))
                }
            }
            return .array(items)
        default:
            return .null
        }
    }
}

/// A Lua script known by its SHA1, sent with `EVALSHA` and loaded on `NOSCRIPT`.
public struct RedisScript: Sendable {
    public let source: String
    public let sha1: String

    public init(_ source: String) {
        self.source = source
        self.sha1 = SHA1.hex(Array(source.utf8))
    }
}

/// A fixed set of pipelined Redis connections shared by every caller (round robin), opened
/// lazily and replaced when broken; run as a `Service`. Callers never wait for a lease: their
/// commands queue on a connection and go out with the next batch.
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

    /// Drops the connections and refuses later commands.
    public func close() {
        closed.store(true, ordering: .relaxed)
        for slot in slots { slot.connection.withLock { $0 = nil } }
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
        do {
            let fresh = try await RedisConnection.connect(host: host, port: port, password: password)
            // Two callers may connect at once: keep the first healthy one, drop the other.
            return slot.connection.withLock { current in
                if let current, !current.isBroken { return current }
                current = fresh
                return fresh
            }
        } catch {
            logger.warning("redis.connect.failed", metadata: ["error": "\(error)"])
            throw error
        }
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
