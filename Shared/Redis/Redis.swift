import CHiredis
import Dispatch
import Foundation
import Logging
import Pooling
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

/// One Redis connection whose blocking hiredis calls run on its own serial queue.
public final class RedisConnection: Sendable {
    private let handle: RedisContextHandle
    private let queue: DispatchQueue

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


    /// Sends one command given as an argument array (`["SET", key, value]`).
    public func send(_ arguments: [String]) async throws -> RESPValue {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { [handle] in
                continuation.resume(with: Result { try Self.command(handle, arguments) })
            }
        }
    }

    private static func command(_ handle: RedisContextHandle, _ arguments: [String]) throws -> RESPValue {
        if handle.isBroken { throw RedisError(kind: .connection, message: handle.errorMessage) }
        let utf8 = arguments.map { Array($0.utf8) }
        let lengths = utf8.map { $0.count }
        let raw: UnsafeMutableRawPointer? = withPointers(utf8) { pointers in
            lengths.withUnsafeBufferPointer { lens in
                redisCommandArgv(handle.pointer, Int32(arguments.count), pointers, lens.baseAddress)
            }
        }
        guard let raw else { throw RedisError(kind: .connection, message: handle.errorMessage) }
        let reply = raw.assumingMemoryBound(to: redisReply.self)
        defer { freeReplyObject(raw) }
        return try decode(reply)
    }

    private static func withPointers<R>(_ buffers: [[UInt8]], _ body: (UnsafeMutablePointer<UnsafePointer<CChar>?>) -> R) -> R {
        let pointers = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: max(buffers.count, 1))
        defer { pointers.deallocate() }
        let storage = buffers.map { bytes -> UnsafeMutablePointer<CChar> in
            let p = UnsafeMutablePointer<CChar>.allocate(capacity: max(bytes.count, 1))
            bytes.withUnsafeBufferPointer { src in
                if let base = src.baseAddress { UnsafeMutableRawPointer(p).copyMemory(from: base, byteCount: bytes.count) }
            }
            return p
        }
        defer { storage.forEach { $0.deallocate() } }
        for (i, p) in storage.enumerated() { pointers[i] = UnsafePointer(p) }
        return body(pointers)
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

/// A bounded pool of Redis connections, run as a `Service`.
public final class RedisPool: Service, Sendable {
    private let pool: ConnectionPool<RedisConnection>
    private let logger: Logger

    /// - Parameters: `host`/`port` of the server, `password` (secret, optional), `maxConnections` (default 8).
    public init(host: String, port: Int, password: String? = nil, maxConnections: Int = 8, logger: Logger = Logger(label: "gmall.redis")) {
        self.logger = logger
        self.pool = ConnectionPool(maxConnections: maxConnections, closedError: RedisError(kind: .poolClosed, message: "pool closed")) {
            do {
                return try await RedisConnection.connect(host: host, port: port, password: password)
            } catch {
                logger.warning("redis.connect.failed", metadata: ["error": "\(error)"])
                throw error
            }
        }
    }

    public func run() async throws {
        try? await gracefulShutdown()
        await pool.close()
    }

    public func close() async { await pool.close() }

    /// Sends one command (argument array) on a pooled connection.
    @discardableResult
    public func send(_ arguments: [String]) async throws -> RESPValue {
        let connection = try await pool.lease()
        do {
            let value = try await connection.send(arguments)
            await pool.release(connection, broken: false)
            return value
        } catch {
            await pool.release(connection, broken: (error as? RedisError)?.kind != .server)
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
