import Foundation
import Logging
import ServiceLifecycle

/// Consumes one queue with manual acks and a small prefetch, in a `Service`.
///
/// - handles up to `parallelism` deliveries at once (default 1: one after the other); only for
///   queues whose handlers do not depend on the order of messages;
/// - acks only after the handler returned `.ack` (the handler commits first);
/// - a thrown error or `.retry` goes to the retry queue of the policy's next delay (and comes back
///   with `x-attempt` counted up), and to the dead-letter queue after the last attempt, however
///   often the broker redelivered it;
/// - dead letters are republished (with confirms) to the dead-letter exchange with the reason in
///   the `x-death-reason` header, then acked;
/// - after a broken connection or a broker restart it closes that connection, reconnects,
///   re-declares and resumes;
/// - on graceful shutdown it finishes the delivery in hand, then closes.
public final class AMQPConsumer: Service, Sendable {
    public typealias Handler = @Sendable (AMQPDelivery) async throws -> AMQPOutcome

    private let endpoint: AMQPEndpoint
    private let topology: AMQPTopology
    /// The queue consumed.
    public let queue: String
    private let prefetch: Int
    private let parallelism: Int
    private let deadLetterExchange: String
    private let deadLetters: AMQPPublisher
    private let retry: AMQPRetryPolicy
    private let handler: Handler
    private let observe: @Sendable (AMQPSettlement) -> Void
    private let logger: Logger

    public init(
        endpoint: AMQPEndpoint, topology: AMQPTopology, queue: String, prefetch: Int = 4, parallelism: Int = 1,
        deadLetterExchange: String, deadLetters: AMQPPublisher, retry: AMQPRetryPolicy = .standard,
        logger: Logger = Logger(label: "gmall.amqp.consumer"), observe: @escaping @Sendable (AMQPSettlement) -> Void = { _ in },
        handler: @escaping Handler
    ) {
        self.observe = observe
        self.retry = retry
        self.endpoint = endpoint
        self.topology = topology
        self.queue = queue
        self.prefetch = max(prefetch, parallelism)
        self.parallelism = max(1, parallelism)
        self.deadLetterExchange = deadLetterExchange
        self.deadLetters = deadLetters
        self.handler = handler
        var logger = logger
        logger[metadataKey: "messaging.destination.name"] = "\(queue)"
        self.logger = logger
    }

    public func run() async throws {
        var backoff: UInt64 = 200_000_000
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let connection = try await AMQPConnection.connect(endpoint)
                do {
                    try await connection.declare(topology)
                    try await connection.consume(queue: queue, prefetch: prefetch)
                    logger.info("amqp.consumer.started")
                    backoff = 200_000_000
                    let slots = HandlerSlots(limit: parallelism)
                    try await withThrowingDiscardingTaskGroup { group in
                        while !Task.isShuttingDownGracefully && !Task.isCancelled {
                            await slots.acquire()
                            // While other handlers run, poll briefly: their acks wait behind this call
                            // on the connection's queue, and the broker sends more once they land.
                            let delivery: AMQPDelivery?
                            do {
                                delivery = try await connection.nextDelivery(timeoutMilliseconds: await slots.othersBusy ? 5 : 250)
                            } catch {
                                await slots.release()
                                throw error
                            }
                            guard let delivery else {
                                await slots.release()
                                continue
                            }
                            group.addTask {
                                do {
                                    try await self.settle(delivery, on: connection)
                                } catch {
                                    await slots.release()
                                    throw error
                                }
                                await slots.release()
                            }
                        }
                    }
                } catch {
                    // Replaced after the backoff: close this one first (no goodbye once broken).
                    await connection.close()
                    throw error
                }
                await connection.close()
                logger.info("amqp.consumer.stopped")
                return
            } catch {
                logger.warning("amqp.consumer.reconnect", error: error)
                try? await Task.sleep(nanoseconds: backoff)
                backoff = min(backoff * 2, 5_000_000_000)
            }
        }
    }

    private func settle(_ delivery: AMQPDelivery, on connection: AMQPConnection) async throws {
        let outcome: AMQPOutcome
        do {
            outcome = try await handler(delivery)
        } catch {
            outcome = .retry(reason: "\(error)")
        }
        let metadata: Logger.Metadata = [
            "messaging.message.id": "\(delivery.messageID ?? "-")", "messaging.rabbitmq.message.delivery_tag": "\(delivery.deliveryTag)",
            "messaging.rabbitmq.attempt": "\(delivery.attempt)",
        ]
        switch outcome {
        case .ack:
            try await connection.ack(delivery.deliveryTag)
            observe(.ack)
        case .retry(let reason):
            if let parking = retry.retryQueue(for: queue, afterAttempt: delivery.attempt) {
                try await scheduleRetry(delivery, in: parking, reason: reason, metadata: metadata, on: connection)
                observe(.retry)
            } else {
                try await deadLetter(delivery, reason: reason, metadata: metadata, on: connection)
                observe(.deadLetter)
            }
        case .deadLetter(let reason):
            try await deadLetter(delivery, reason: reason, metadata: metadata, on: connection)
            observe(.deadLetter)
        }
    }

    /// Copies the delivery into `parking` with the attempt counted up, then acks it.
    private func scheduleRetry(
        _ delivery: AMQPDelivery, in parking: String, reason: String, metadata: Logger.Metadata, on connection: AMQPConnection
    ) async throws {
        var metadata = metadata
        metadata["error.message"] = "\(reason)"
        metadata["messaging.rabbitmq.retry_queue"] = "\(parking)"
        logger.warning("amqp.message.retry_scheduled", metadata: metadata)
        var headers = delivery.headers
        headers["x-attempt"] = String(delivery.attempt + 1)
        headers["x-retry-reason"] = String(reason.prefix(500))
        // Through the default exchange straight into the retry queue; it expires back into
        // this queue. Acked only once the copy is confirmed, so a failure loses nothing.
        let copy = AMQPMessage(
            exchange: "", routingKey: parking, body: delivery.body, messageID: delivery.messageID ?? UUID().uuidString, headers: headers)
        do {
            try await deadLetters.publish(copy)
            try await connection.ack(delivery.deliveryTag)
        } catch {
            // The retry queue cannot take it (the publisher's connection is down): back into
            // this queue, but not at once, or the delivery would spin through the handler as
            // fast as the broker can redeliver it until the publisher is back.
            logger.warning("amqp.message.requeued", error: error, metadata: metadata)
            try? await Task.sleep(for: .seconds(1))
            try await connection.nack(delivery.deliveryTag, requeue: true)
        }
    }

    /// Copies the delivery to the dead-letter exchange with the reason and attempts, then acks it.
    private func deadLetter(_ delivery: AMQPDelivery, reason: String, metadata: Logger.Metadata, on connection: AMQPConnection) async throws {
        var metadata = metadata
        metadata["error.message"] = "\(reason)"
        logger.error("amqp.message.dead_lettered", metadata: metadata)
        var headers = delivery.headers
        headers["x-attempt"] = String(delivery.attempt)
        headers["x-death-reason"] = String(reason.prefix(500))
        headers["x-original-routing-key"] = delivery.routingKey
        headers["x-original-queue"] = queue
        let copy = AMQPMessage(
            exchange: deadLetterExchange, routingKey: queue, body: delivery.body,
            messageID: delivery.messageID ?? UUID().uuidString, headers: headers)
        do {
            try await deadLetters.publish(copy)
            try await connection.ack(delivery.deliveryTag)
        } catch {
            // Could not store the dead letter: let the broker dead-letter it natively instead.
            try await connection.reject(delivery.deliveryTag)
        }
    }
}

extension AMQPConsumer {
    /// At most `limit` handlers at once; `acquire` waits for a free slot.
    private actor HandlerSlots {
        let limit: Int
        private var used = 0
        private var waiters: [CheckedContinuation<Void, Never>] = []

        init(limit: Int) { self.limit = limit }

        func acquire() async {
            if used < limit {
                used += 1
                return
            }
            await withCheckedContinuation { waiters.append($0) }  // the releaser hands its slot over
        }

        func release() {
            if waiters.isEmpty { used -= 1 } else { waiters.removeFirst().resume() }
        }

        /// Whether a handler other than the caller's own slot is running.
        var othersBusy: Bool { used > 1 }
    }
}
