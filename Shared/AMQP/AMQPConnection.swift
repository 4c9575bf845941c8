import CRabbitMQ
import Dispatch
import Foundation
import Pooling

/// Where and how to reach the broker.
///
/// Keys (environment, see `ServiceConfig`): `GMALL_AMQP_HOST` (127.0.0.1), `GMALL_AMQP_PORT` (55672),
/// `GMALL_AMQP_USER` (guest), `GMALL_AMQP_PASSWORD` (secret, guest), `GMALL_AMQP_VHOST` (/),
/// heartbeat 30 s.
public struct AMQPEndpoint: Sendable {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String
    public var vhost: String
    public var heartbeatSeconds: Int

    public init(host: String = "127.0.0.1", port: Int = 55672, user: String = "guest", password: String = "guest", vhost: String = "/", heartbeatSeconds: Int = 30) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.vhost = vhost
        self.heartbeatSeconds = heartbeatSeconds
    }
}

/// A message as received, with what is needed to settle it.
public struct AMQPDelivery: Sendable {
    public let deliveryTag: UInt64
    public let redelivered: Bool
    public let exchange: String
    public let routingKey: String
    public let messageID: String?
    public let headers: [String: String]
    public let body: [UInt8]

    public init(deliveryTag: UInt64, redelivered: Bool, exchange: String, routingKey: String, messageID: String?, headers: [String: String], body: [UInt8]) {
        self.deliveryTag = deliveryTag
        self.redelivered = redelivered
        self.exchange = exchange
        self.routingKey = routingKey
        self.messageID = messageID
        self.headers = headers
        self.body = body
    }
}

/// Owns one `amqp_connection_state_t`; closes and destroys it in `deinit`.
///
/// `@unchecked Sendable`: used only on its `AMQPConnection`'s serial queue.
final class AMQPConnectionHandle: @unchecked Sendable {
    let state: amqp_connection_state_t
    var loggedIn = false
    /// Set after a socket or protocol error: closing politely would only block.
    var broken = false

    init(state: amqp_connection_state_t) { self.state = state }

    /// Sends channel.close and connection.close (bounded by the RPC timeout) once.
    func closePolitely() {
        if loggedIn && !broken {
            _ = amqp_channel_close(state, 1, AMQP_REPLY_SUCCESS)
            _ = amqp_connection_close(state, AMQP_REPLY_SUCCESS)
        }
        loggedIn = false
    }

    deinit {
        closePolitely()
        amqp_destroy_connection(state)
    }
}

/// One AMQP 0-9-1 connection with one channel. librabbitmq is not thread-safe, so every call runs
/// on the connection's own serial queue, off the event loops and the cooperative pool.
public final class AMQPConnection: Sendable {
    private let handle: AMQPConnectionHandle
    private let queue: DispatchQueue
    static let channel: amqp_channel_t = 1
    /// Publish sequence numbers for confirms; touched only on `queue`.
    private let confirms: ConfirmState
    /// Publishes waiting for the queue (see `publish(_:timeoutMilliseconds:)`).
    private let publishes = BatchQueue<PendingPublish>()

    final class ConfirmState: @unchecked Sendable {  // only on `queue`
        var enabled = false
        var nextTag: UInt64 = 1
    }

    /// Connects, logs in with heartbeats and opens channel 1.
    public static func connect(_ endpoint: AMQPEndpoint, timeoutMilliseconds: Int = 3000) async throws -> AMQPConnection {
        let queue = DispatchQueue(label: "gmall.amqp.connection")
        let handle: AMQPConnectionHandle = try await run(on: queue) {
            guard let state = amqp_new_connection() else { throw AMQPError(kind: .connection, message: "out of memory") }
            let handle = AMQPConnectionHandle(state: state)
            guard let socket = amqp_tcp_socket_new(state) else { throw AMQPError(kind: .connection, message: "cannot create socket") }
            var timeout = gmall_amqp_timeval_ms(timeoutMilliseconds)
            let status = amqp_socket_open_noblock(socket, endpoint.host, Int32(endpoint.port), &timeout)
            guard status == AMQP_STATUS_OK.rawValue else {
                throw AMQPError(kind: .connection, message: "connect \(endpoint.host):\(endpoint.port): \(String(cString: amqp_error_string2(status)))")
            }
            var rpcTimeout = gmall_amqp_timeval_ms(max(timeoutMilliseconds, 5000))
            _ = amqp_set_rpc_timeout(state, &rpcTimeout)
            _ = amqp_set_handshake_timeout(state, &timeout)
            try check(state, gmall_amqp_login_plain(state, endpoint.vhost, Int32(endpoint.heartbeatSeconds), endpoint.user, endpoint.password), "login")
            handle.loggedIn = true
            _ = amqp_channel_open(state, channel)
            try check(state, amqp_get_rpc_reply(state), "channel.open")
            return handle
        }
        return AMQPConnection(handle: handle, queue: queue)
    }

    private init(handle: AMQPConnectionHandle, queue: DispatchQueue) {
        self.handle = handle
        self.queue = queue
        self.confirms = ConfirmState()
    }

    /// Declares exchanges, queues and bindings (idempotent on the broker).
    public func declare(_ topology: AMQPTopology) async throws {
        try await call { state in
            for exchange in topology.exchanges {
                try withBytes(exchange.name, exchange.type) { name, type in
                    _ = amqp_exchange_declare(state, Self.channel, name, type, 0, 1, 0, 0, gmall_amqp_empty_table())
                }
                try check(state, amqp_get_rpc_reply(state), "exchange.declare \(exchange.name)")
            }
            for q in topology.queues {
                try withTable(q.arguments) { table in
                    try withBytes(q.name) { name in
                        _ = amqp_queue_declare(state, Self.channel, name, 0, 1, 0, 0, table)
                    }
                }
                try check(state, amqp_get_rpc_reply(state), "queue.declare \(q.name)")
                for binding in q.bindings {
                    try withBytes(q.name, binding.exchange, binding.routingKey) { name, exchange, key in
                        _ = amqp_queue_bind(state, Self.channel, name, exchange, key, gmall_amqp_empty_table())
                    }
                    try check(state, amqp_get_rpc_reply(state), "queue.bind \(q.name)")
                }
            }
        }
    }

    /// Number of ready messages in a queue (passive declare).
    public func messageCount(queue name: String) async throws -> Int {
        try await call { state in
            let ok = try withBytes(name) { bytes in amqp_queue_declare(state, Self.channel, bytes, 1, 0, 0, 0, gmall_amqp_empty_table()) }
            try check(state, amqp_get_rpc_reply(state), "queue.declare passive \(name)")
            return Int(ok?.pointee.message_count ?? 0)
        }
    }

    /// Drops every ready message in a queue.
    public func purge(queue name: String) async throws {
        try await call { state in
            try withBytes(name) { bytes in _ = amqp_queue_purge(state, Self.channel, bytes) }
            try check(state, amqp_get_rpc_reply(state), "queue.purge \(name)")
        }
    }

    /// Deletes a queue and its messages (tests and operators).
    public func delete(queue name: String) async throws {
        try await call { state in
            try withBytes(name) { bytes in _ = amqp_queue_delete(state, Self.channel, bytes, 0, 0) }
            try check(state, amqp_get_rpc_reply(state), "queue.delete \(name)")
        }
    }

    /// Puts the channel in publisher-confirm mode.
    public func enableConfirms() async throws {
        try await call { [confirms] state in
            _ = amqp_confirm_select(state, Self.channel)
            try check(state, amqp_get_rpc_reply(state), "confirm.select")
            confirms.enabled = true
            confirms.nextTag = 1
        }
    }

    /// Publishes a persistent message (mandatory: an unroutable one is an error). With confirms
    /// enabled it returns only once the broker acked it, and throws on nack, return or timeout.
    public func publish(_ message: AMQPMessage, timeoutMilliseconds: Int = 5000) async throws {
        if let error = await publish([message], timeoutMilliseconds: timeoutMilliseconds)[0] { throw error }
    }

    /// Publishes `messages` in order and waits for all their confirms; one entry per message:
    /// `nil` when confirmed, else why not.
    ///
    /// Publishes from concurrent callers are pipelined: whatever is pending when the connection's
    /// queue gets to it goes out in one go, in arrival order, and the confirms are then awaited
    /// together (one ack with `multiple` settles many), instead of one round trip per message.
    public func publish(_ messages: [AMQPMessage], timeoutMilliseconds: Int = 5000) async -> [AMQPError?] {
        guard !messages.isEmpty else { return [] }
        return await withCheckedContinuation { continuation in
            let pending = PendingPublish(messages: messages, timeoutMilliseconds: timeoutMilliseconds, continuation: continuation)
            if publishes.add(pending) { queue.async { self.drainPublishes() } }
        }
    }

    private struct PendingPublish: Sendable {
        let messages: [AMQPMessage]
        let timeoutMilliseconds: Int
        let continuation: CheckedContinuation<[AMQPError?], Never>
    }
    /// Where one message of a batch stands.
    private enum Settlement {
        case open, confirmed
        case failed(AMQPError)
        var error: AMQPError? {
            switch self {
            case .open: AMQPError(kind: .connection, message: "publish: not settled")
            case .confirmed: nil
            case .failed(let error): error
            }
        }
    }

    /// On `queue`: publishes every pending message, then settles them from the confirms, until
    /// nothing is pending.
    private func drainPublishes() {
        while true {
            let batch = publishes.takeAll()
            if batch.isEmpty { return }
            let messages = batch.flatMap(\.messages)
            var results = publishAndConfirm(messages, timeoutMilliseconds: batch.map(\.timeoutMilliseconds).max() ?? 5000)[...]
            for item in batch {
                item.continuation.resume(returning: Array(results.prefix(item.messages.count)))
                results = results.dropFirst(item.messages.count)
            }
        }
    }

    /// On `queue`: sends `messages`, then reads frames until each has its ack, nack or timeout.
    private func publishAndConfirm(_ messages: [AMQPMessage], timeoutMilliseconds: Int) -> [AMQPError?] {
        var results = [Settlement](repeating: .open, count: messages.count)
        func failRest(_ error: AMQPError) {
            for i in results.indices { if case .open = results[i] { results[i] = .failed(error) } }
        }
        if handle.broken {
            failRest(AMQPError(kind: .connection, message: "publish: the connection is broken"))
            return results.map(\.error)
        }
        let state = handle.state
        var unconfirmed: [UInt64: Int] = [:]  // delivery tag -> index
        for (index, message) in messages.enumerated() {
            do {
                try Self.send(message, on: state)
            } catch let error as AMQPError {
                handle.broken = true
                failRest(error)
                return results.map(\.error)
            } catch {
                fatalError("send throws only AMQPError")
            }
            if confirms.enabled {
                unconfirmed[confirms.nextTag] = index
                confirms.nextTag += 1
            } else {
                results[index] = .confirmed
            }
        }
        do {
            try Self.awaitConfirms(state, messages: messages, unconfirmed: &unconfirmed, results: &results, timeoutMilliseconds: timeoutMilliseconds)
        } catch let error as AMQPError {
            handle.broken = true
            failRest(error)
        } catch {
            fatalError("awaitConfirms throws only AMQPError")
        }
        return results.map(\.error)
    }

    /// Writes one message's frames (persistent, mandatory).
    private static func send(_ message: AMQPMessage, on state: amqp_connection_state_t) throws {
        try withBytes(message.exchange, message.routingKey, message.contentType, message.messageID, message.expiration ?? "") {
            exchange, key, contentType, messageID, expiration in
            var flags = gmall_flag_content_type() | gmall_flag_delivery_mode() | gmall_flag_message_id()
            var properties = amqp_basic_properties_t()
            properties.content_type = contentType
            properties.delivery_mode = 2
            properties.message_id = messageID
            if message.expiration != nil {
                flags |= gmall_flag_expiration()
                properties.expiration = expiration
            }
            try withTable(message.headers.mapValues { .string($0) }) { table in
                if !message.headers.isEmpty {
                    flags |= gmall_flag_headers()
                    properties.headers = table
                }
                properties._flags = flags
                let status = message.body.withUnsafeBytes { body in
                    amqp_basic_publish(state, Self.channel, exchange, key, 1, 0, &properties, gmall_amqp_bytes(body.baseAddress, body.count))
                }
                guard status == AMQP_STATUS_OK.rawValue else {
                    throw AMQPError(kind: .connection, message: "publish: \(String(cString: amqp_error_string2(status)))")
                }
            }
        }
    }

    /// Reads frames until every tag in `unconfirmed` is settled. An ack (or nack) with `multiple`
    /// settles every tag up to it. A `basic.return` (unroutable) comes before its message's ack;
    /// its header frame names the message id, and that message is then settled as not confirmed.
    private static func awaitConfirms(
        _ state: amqp_connection_state_t, messages: [AMQPMessage], unconfirmed: inout [UInt64: Int],
        results: inout [Settlement], timeoutMilliseconds: Int
    ) throws {
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(timeoutMilliseconds) * 1_000_000
        var returnedIDs: Set<String> = []
        var returnPending = false      // a basic.return was read; its header frame is next
        var returnedUnnamed = false    // a returned message carried no id: fail the next acked ones
        func settle(upTo tag: UInt64, multiple: Bool, _ outcome: (Int) -> Settlement) {
            let tags = multiple ? unconfirmed.keys.filter { $0 <= tag } : (unconfirmed[tag] == nil ? [] : [tag])
            for t in tags {
                let index = unconfirmed.removeValue(forKey: t)!
                results[index] = outcome(index)
            }
        }
        while !unconfirmed.isEmpty {
            let now = DispatchTime.now().uptimeNanoseconds
            guard now < deadline else {
                throw AMQPError(kind: .timeout, message: "no confirm for \(unconfirmed.count) message(s) within \(timeoutMilliseconds) ms")
            }
            var timeout = gmall_amqp_timeval_ms(Int((deadline - now) / 1_000_000) + 1)
            var frame = amqp_frame_t()
            let status = amqp_simple_wait_frame_noblock(state, &frame, &timeout)
            if status == AMQP_STATUS_TIMEOUT.rawValue { continue }
            guard status == AMQP_STATUS_OK.rawValue else {
                throw AMQPError(kind: .connection, message: "waiting for confirms: \(String(cString: amqp_error_string2(status)))")
            }
            if frame.frame_type == UInt8(AMQP_FRAME_HEADER) {
                if returnPending, let decoded = frame.payload.properties.decoded {
                    let properties = decoded.assumingMemoryBound(to: amqp_basic_properties_t.self).pointee
                    if properties._flags & gmall_flag_message_id() != 0 {
                        returnedIDs.insert(string(properties.message_id))
                    } else {
                        returnedUnnamed = true
                    }
                }
                returnPending = false
                continue
            }
            guard frame.frame_type == UInt8(AMQP_FRAME_METHOD) else { continue }  // body of a returned message
            let id = frame.payload.method.id
            if id == gmall_method_basic_ack() {
                let ack = frame.payload.method.decoded.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee
                settle(upTo: ack.delivery_tag, multiple: ack.multiple != 0) { index in
                    returnedUnnamed || returnedIDs.contains(messages[index].messageID)
                        ? .failed(AMQPError(kind: .notConfirmed, message: "message returned as unroutable"))
                        : .confirmed
                }
                returnedUnnamed = false
            } else if id == gmall_method_basic_nack() {
                let nack = frame.payload.method.decoded.assumingMemoryBound(to: amqp_basic_nack_t.self).pointee
                settle(upTo: nack.delivery_tag, multiple: nack.multiple != 0) { _ in
                    .failed(AMQPError(kind: .notConfirmed, message: "broker nacked delivery tag \(nack.delivery_tag)"))
                }
            } else if id == gmall_method_basic_return() {
                returnPending = true
            } else if id == gmall_method_channel_close() || id == gmall_method_connection_close() {
                throw AMQPError(kind: .broker, message: "broker closed the channel while publishing")
            }
        }
    }

    /// Limits unacked deliveries to `prefetch` and starts consuming `queue` with manual acks.
    public func consume(queue name: String, prefetch: Int) async throws {
        try await call { state in
            _ = amqp_basic_qos(state, Self.channel, 0, UInt16(prefetch), 0)
            try check(state, amqp_get_rpc_reply(state), "basic.qos")
            try withBytes(name) { bytes in
                _ = amqp_basic_consume(state, Self.channel, bytes, gmall_amqp_empty_bytes(), 0, 0, 0, gmall_amqp_empty_table())
            }
            try check(state, amqp_get_rpc_reply(state), "basic.consume \(name)")
        }
    }

    /// The next delivery, or `nil` when none arrived within the timeout.
    public func nextDelivery(timeoutMilliseconds: Int) async throws -> AMQPDelivery? {
        try await call { state in
            amqp_maybe_release_buffers(state)
            var envelope = amqp_envelope_t()
            var timeout = gmall_amqp_timeval_ms(timeoutMilliseconds)
            let reply = amqp_consume_message(state, &envelope, &timeout, 0)
            if reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION, reply.library_error == AMQP_STATUS_TIMEOUT.rawValue {
                return nil
            }
            try check(state, reply, "consume")
            defer { amqp_destroy_envelope(&envelope) }
            let properties = envelope.message.properties
            let headers = textHeaders(properties)
            return AMQPDelivery(
                deliveryTag: envelope.delivery_tag,
                redelivered: envelope.redelivered != 0,
                exchange: string(envelope.exchange),
                routingKey: string(envelope.routing_key),
                messageID: properties._flags & gmall_flag_message_id() != 0 ? string(properties.message_id) : nil,
                headers: headers,
                body: bytes(envelope.message.body))
        }
    }

    /// Acknowledges one delivery.
    public func ack(_ deliveryTag: UInt64) async throws {
        try await call { state in try checkStatus(amqp_basic_ack(state, Self.channel, deliveryTag, 0), "basic.ack") }
    }

    /// Negative-acknowledges one delivery; `requeue: false` sends it to the queue's dead-letter exchange.
    public func nack(_ deliveryTag: UInt64, requeue: Bool) async throws {
        try await call { state in
            try checkStatus(amqp_basic_nack(state, Self.channel, deliveryTag, 0, requeue ? 1 : 0), "basic.nack")
        }
    }

    /// Rejects one delivery without requeue: the broker dead-letters it.
    public func reject(_ deliveryTag: UInt64) async throws {
        try await call { state in try checkStatus(amqp_basic_reject(state, Self.channel, deliveryTag, 0), "basic.reject") }
    }

    /// Fetches one message with `basic.get` (manual ack), `nil` when the queue is empty.
    public func get(queue name: String) async throws -> AMQPDelivery? {
        try await call { state in
            amqp_maybe_release_buffers(state)
            let reply = try withBytes(name) { bytes in amqp_basic_get(state, Self.channel, bytes, 0) }
            try check(state, reply, "basic.get \(name)")
            guard reply.reply.id == gmall_method_basic_get_ok() else { return nil }
            let ok = reply.reply.decoded.assumingMemoryBound(to: amqp_basic_get_ok_t.self).pointee
            var message = amqp_message_t()
            try check(state, amqp_read_message(state, Self.channel, &message, 0), "read message")
            defer { amqp_destroy_message(&message) }
            let headers = textHeaders(message.properties)
            return AMQPDelivery(
                deliveryTag: ok.delivery_tag, redelivered: ok.redelivered != 0,
                exchange: string(ok.exchange), routingKey: string(ok.routing_key),
                messageID: message.properties._flags & gmall_flag_message_id() != 0 ? string(message.properties.message_id) : nil,
                headers: headers, body: bytes(message.body))
        }
    }

    // MARK: plumbing

    /// Closes the channel and connection politely (on this connection's queue).
    public func close() async {
        _ = try? await Self.run(on: queue) { [handle] in handle.closePolitely() }
    }

    private func call<T: Sendable>(_ body: @escaping @Sendable (amqp_connection_state_t) throws -> T) async throws -> T {
        try await Self.run(on: queue) { [handle] in
            do {
                return try body(handle.state)
            } catch let error as AMQPError where error.kind != .notConfirmed {
                handle.broken = true
                throw error
            }
        }
    }

    private static func run<T: Sendable>(on queue: DispatchQueue, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body() }) }
        }
    }
}

/// Turns an `amqp_rpc_reply_t` into success or a typed error.
func check(_ state: amqp_connection_state_t, _ reply: amqp_rpc_reply_t, _ what: String) throws {
    switch reply.reply_type {
    case AMQP_RESPONSE_NORMAL:
        return
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
        throw AMQPError(kind: .connection, message: "\(what): \(String(cString: amqp_error_string2(reply.library_error)))")
    case AMQP_RESPONSE_SERVER_EXCEPTION:
        if reply.reply.id == gmall_method_channel_close() {
            let close = reply.reply.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
            throw AMQPError(kind: .broker, message: "\(what): channel closed \(close.reply_code) \(string(close.reply_text))")
        }
        if reply.reply.id == gmall_method_connection_close() {
            let close = reply.reply.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
            throw AMQPError(kind: .broker, message: "\(what): connection closed \(close.reply_code) \(string(close.reply_text))")
        }
        throw AMQPError(kind: .broker, message: "\(what): server exception \(reply.reply.id)")
    default:
        throw AMQPError(kind: .connection, message: "\(what): no reply")
    }
}

func checkStatus(_ status: Int32, _ what: String) throws {
    guard status == AMQP_STATUS_OK.rawValue else {
        throw AMQPError(kind: .connection, message: "\(what): \(String(cString: amqp_error_string2(status)))")
    }
}

/// The message's headers that are text or numbers, as strings (other kinds are skipped).
func textHeaders(_ properties: amqp_basic_properties_t) -> [String: String] {
    guard properties._flags & gmall_flag_headers() != 0 else { return [:] }
    var headers: [String: String] = [:]
    var buffer = [CChar](repeating: 0, count: 1024)
    for i in 0..<Int(properties.headers.num_entries) {
        let entry = gmall_amqp_table_at(properties.headers, Int32(i))!
        if gmall_amqp_entry_text(entry, &buffer, buffer.count) == 1 {
            headers[string(entry.pointee.key)] = String(cString: buffer)
        }
    }
    return headers
}

func string(_ bytes: amqp_bytes_t) -> String {
    guard let base = bytes.bytes, bytes.len > 0 else { return "" }
    return String(decoding: UnsafeRawBufferPointer(start: base, count: bytes.len), as: UTF8.self)
}

func bytes(_ bytes: amqp_bytes_t) -> [UInt8] {
    guard let base = bytes.bytes, bytes.len > 0 else { return [] }
    return Array(UnsafeRawBufferPointer(start: base, count: bytes.len))
}

/// Lends `amqp_bytes_t` views of Swift strings for the duration of `body`.
func withBytes<R>(_ a: String, _ body: (amqp_bytes_t) throws -> R) rethrows -> R {
    var a = a
    return try a.withUTF8 { pa in try body(gmall_amqp_bytes(pa.baseAddress, pa.count)) }
}

func withBytes<R>(_ a: String, _ b: String, _ body: (amqp_bytes_t, amqp_bytes_t) throws -> R) rethrows -> R {
    try withBytes(a) { ba in try withBytes(b) { bb in try body(ba, bb) } }
}

func withBytes<R>(_ a: String, _ b: String, _ c: String, _ body: (amqp_bytes_t, amqp_bytes_t, amqp_bytes_t) throws -> R) rethrows -> R {
    try withBytes(a, b) { ba, bb in try withBytes(c) { bc in try body(ba, bb, bc) } }
}

func withBytes<R>(_ a: String, _ b: String, _ c: String, _ d: String, _ e: String, _ body: (amqp_bytes_t, amqp_bytes_t, amqp_bytes_t, amqp_bytes_t, amqp_bytes_t) throws -> R) rethrows -> R {
    try withBytes(a, b, c) { ba, bb, bc in try withBytes(d, e) { bd, be in try body(ba, bb, bc, bd, be) } }
}

/// Lends an `amqp_table_t` built from `arguments` for the duration of `body`.
func withTable<R>(_ arguments: [String: AMQPArgument], _ body: (amqp_table_t) throws -> R) rethrows -> R {
    let keys = arguments.keys.sorted()
    // Copies that live until the end of this function.
    let keyStorage = keys.map { Array($0.utf8) }
    let valueStorage = keys.map { key -> [UInt8] in
        if case .string(let s) = arguments[key]! { return Array(s.utf8) }
        return []
    }
    return try keyStorage.withUnsafeBufferPointers { keyBuffers in
        try valueStorage.withUnsafeBufferPointers { valueBuffers in
            var entries: [amqp_table_entry_t] = []
            for (i, key) in keys.enumerated() {
                let k = gmall_amqp_bytes(keyBuffers[i].baseAddress, keyBuffers[i].count)
                switch arguments[key]! {
                case .string: entries.append(gmall_amqp_entry_utf8(k, gmall_amqp_bytes(valueBuffers[i].baseAddress, valueBuffers[i].count)))
                case .int(let v): entries.append(gmall_amqp_entry_i64(k, v))
                }
            }
            return try entries.withUnsafeMutableBufferPointer { buffer in
                var table = amqp_table_t()
                table.num_entries = Int32(buffer.count)
                table.entries = buffer.baseAddress
                return try body(table)
            }
        }
    }
}

extension Array where Element == [UInt8] {
    /// Pins every inner array's storage for the duration of `body`.
    func withUnsafeBufferPointers<R>(_ body: ([UnsafeBufferPointer<UInt8>]) throws -> R) rethrows -> R {
        func pin(_ index: Int, _ acc: [UnsafeBufferPointer<UInt8>]) throws -> R {
            if index == count { return try body(acc) }
            return try self[index].withUnsafeBufferPointer { try pin(index + 1, acc + [$0]) }
        }
        return try pin(0, [])
    }
}
