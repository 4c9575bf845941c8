import CHiredis
import Dispatch
import Pooling
import Synchronization

/// One Redis connection whose blocking hiredis calls run on its own serial queue. Commands from
/// concurrent callers are pipelined: whatever is pending when the queue gets to it is written in
/// one go (`redisAppendFormattedCommand`), then the replies are read in order (`redisGetReply`).
/// One connection serves many callers at once, so commands that hold a connection (`MULTI`,
/// `WATCH`, blocking pops, `SUBSCRIBE`) must not be sent through it.
///
/// `close()` closes it; every connection must be closed before it is dropped (asserted in debug
/// builds), so closing never runs in a `deinit`.
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
        let handle: RedisContextHandle = try await queue.run {
            guard let ctx = redisConnectWithTimeout(host, Int32(port), gmall_timeval_ms(timeoutMilliseconds)) else {
                throw RedisError(kind: .connection, message: "out of memory")
            }
            let handle = RedisContextHandle(pointer: ctx)
            if handle.isBroken {
                // hiredis hands back a context even when the connect failed: free it before throwing.
                let error = RedisError(kind: .connection, message: handle.errorMessage)
                handle.close()
                throw error
            }
            redisSetTimeout(ctx, gmall_timeval_ms(max(timeoutMilliseconds, 5000)))
            return handle
        }
        let connection = RedisConnection(handle: handle, queue: queue)
        do {
            if let password { _ = try await connection.send(["AUTH", password]) }
            if database != 0 { _ = try await connection.send(["SELECT", String(database)]) }
        } catch {
            await connection.close()
            throw error
        }
        return connection
    }

    private init(handle: RedisContextHandle, queue: DispatchQueue) {
        self.handle = handle
        self.queue = queue
    }

    /// True after an I/O or protocol error, or once closed: the pool replaces the connection.
    public var isBroken: Bool { broken.load(ordering: .acquiring) }

    /// Closes the socket and frees the context, on this connection's queue after the commands
    /// queued before it. Idempotent; commands sent later fail with a `.connection` error.
    public func close() async {
        broken.store(true, ordering: .releasing)
        _ = try? await queue.run { [handle] in handle.close() }
    }

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
    /// Once the connection is broken or closed (`handle.isBroken`), commands fail unsent.
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
