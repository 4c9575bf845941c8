import CRabbitMQ
import Dispatch

/// Publishing with publisher confirms: the pipeline that batches concurrent publishes on the
/// connection's queue, and the state machine that settles each message from the broker's acks,
/// nacks and returns.
extension AMQPConnection {
    /// Whether confirms are on, and the delivery tag the next publish gets.
    final class ConfirmState: @unchecked Sendable {  // only on `queue`
        var enabled = false
        var nextTag: UInt64 = 1
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

    struct PendingPublish: Sendable {
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
        if handle.closed || handle.broken {
            failRest(AMQPError(kind: .connection, message: "publish: the connection is \(handle.closed ? "closed" : "broken")"))
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
        // The confirms were decoded into the connection's frame pool, which librabbitmq frees
        // only when asked (and the consumer paths did ask). Without this a publisher's memory grew
        // with every confirm: seckill from 146 to 441 MiB in deploy/bench/soak's five minutes.
        amqp_maybe_release_buffers(state)
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
                try checkStatus(status, "publish")
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
            try checkStatus(status, "waiting for confirms")
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
}
