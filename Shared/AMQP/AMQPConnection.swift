import CRabbitMQ
import Dispatch
import Pooling

/// One AMQP 0-9-1 connection with one channel. librabbitmq is not thread-safe, so every call runs
/// on the connection's own serial queue, off the event loops and the cooperative pool.
///
/// `close()` closes it; every connection must be closed before it is dropped (asserted in debug
/// builds), so the goodbye to the broker never runs in a `deinit`. Publishing and confirms are in
/// `AMQPConnection+Publish.swift`.
public final class AMQPConnection: Sendable {
    let handle: AMQPConnectionHandle
    let queue: DispatchQueue
    static let channel: amqp_channel_t = 1
    /// Publish sequence numbers for confirms; touched only on `queue`.
    let confirms: ConfirmState
    /// Publishes waiting for the queue (see `publish(_:timeoutMilliseconds:)`).
    let publishes = BatchQueue<PendingPublish>()

    /// Connects, logs in with heartbeats and opens channel 1.
    public static func connect(_ endpoint: AMQPEndpoint, timeoutMilliseconds: Int = 3000) async throws -> AMQPConnection {
        let queue = DispatchQueue(label: "gmall.amqp.connection")
        let handle: AMQPConnectionHandle = try await queue.run {
            guard let state = amqp_new_connection() else { throw AMQPError(kind: .connection, message: "out of memory") }
            let handle = AMQPConnectionHandle(state: state)
            do {
                guard let socket = amqp_tcp_socket_new(state) else { throw AMQPError(kind: .connection, message: "cannot create socket") }
                var timeout = gmall_amqp_timeval_ms(timeoutMilliseconds)
                try checkStatus(amqp_socket_open_noblock(socket, endpoint.host, Int32(endpoint.port), &timeout), "connect \(endpoint.host):\(endpoint.port)")
                var rpcTimeout = gmall_amqp_timeval_ms(max(timeoutMilliseconds, 5000))
                _ = amqp_set_rpc_timeout(state, &rpcTimeout)
                _ = amqp_set_handshake_timeout(state, &timeout)
                try check(state, gmall_amqp_login_plain(state, endpoint.vhost, Int32(endpoint.heartbeatSeconds), endpoint.user, endpoint.password), "login")
                handle.loggedIn = true
                _ = amqp_channel_open(state, channel)
                try check(state, amqp_get_rpc_reply(state), "channel.open")
                return handle
            } catch {
                // Half-open (no socket, login refused, channel refused): close it before throwing.
                handle.close()
                throw error
            }
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
        try await ack([deliveryTag])
    }

    /// Acknowledges each delivery (one `basic.ack` each, never `multiple`: other handlers may
    /// still hold lower tags), in one trip to the connection's thread.
    public func ack(_ deliveryTags: [UInt64]) async throws {
        try await call { state in
            for tag in deliveryTags { try checkStatus(amqp_basic_ack(state, Self.channel, tag, 0), "basic.ack") }
        }
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

    /// Closes the channel and connection politely (skipped once broken) and frees the
    /// connection, on this connection's queue after whatever was queued before it. Idempotent;
    /// later calls throw a `.connection` error.
    public func close() async {
        _ = try? await queue.run { [handle] in handle.close() }
    }

    /// Runs `body` on this connection's queue; an error other than `.notConfirmed` marks the
    /// connection broken. Refuses once the connection is closed (its state is destroyed then).
    func call<T: Sendable>(_ body: @escaping @Sendable (amqp_connection_state_t) throws -> T) async throws -> T {
        try await queue.run { [handle] in
            guard !handle.closed else { throw AMQPError(kind: .connection, message: "the connection is closed") }
            do {
                return try body(handle.state)
            } catch let error as AMQPError where error.kind != .notConfirmed {
                handle.broken = true
                throw error
            }
        }
    }
}
