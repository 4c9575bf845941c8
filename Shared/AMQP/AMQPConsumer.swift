import Foundation
import Logging
import ServiceLifecycle

/// Consumes one queue with manual acks and a small prefetch, in a `Service`.
///
/// - handles up to `parallelism` deliveries at once (default 1: one after the other); only for
///   queues whose handlers do not depend on the order of messages;
/// - or, with a batch handler, up to `parallelism` batches of at most `batchSize` deliveries at
///   once: a batch is what has already arrived when a handler is free (never a wait to fill
///   one), so a quiet queue's message goes alone and a busy queue's work shares one commit;
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
    /// One outcome per delivery, in the deliveries' order; a throw retries the whole batch.
    public typealias BatchHandler = @Sendable ([AMQPDelivery]) async throws -> [AMQPOutcome]

    private let endpoint: AMQPEndpoint
    private let topology: AMQPTopology
    /// The queue consumed.
    public let queue: String
    private let prefetch: Int
    private let parallelism: Int
    private let deadLetterExchange: String
    private let deadLetters: AMQPPublisher
    private let retry: AMQPRetryPolicy
    private let batchSize: Int
    private let handler: BatchHandler
    private let observe: @Sendable (AMQPSettlement) -> Void
    private let logger: Logger

    public convenience init(
        endpoint: AMQPEndpoint, topology: AMQPTopology, queue: String, prefetch: Int = 4, parallelism: Int = 1,
        deadLetterExchange: String, deadLetters: AMQPPublisher, retry: AMQPRetryPolicy = .standard,
        logger: Logger = Logger(label: "gmall.amqp.consumer"), observe: @escaping @Sendable (AMQPSettlement) -> Void = { _ in },
        handler: @escaping Handler
    ) {
        self.init(
            endpoint: endpoint, topology: topology, queue: queue, batchSize: 1, prefetch: prefetch, parallelism: parallelism,
            deadLetterExchange: deadLetterExchange, deadLetters: deadLetters, retry: retry, logger: logger, observe: observe
        ) { deliveries in
            try await deliveries.asyncMap(handler)
        }
    }

    /// A consumer whose handler takes up to `batchSize` deliveries at once. The prefetch is raised
    /// to `batchSize × parallelism` if it is smaller, or batches could never fill.
    public init(
        endpoint: AMQPEndpoint, topology: AMQPTopology, queue: String, batchSize: Int, prefetch: Int = 4, parallelism: Int = 1,
        deadLetterExchange: String, deadLetters: AMQPPublisher, retry: AMQPRetryPolicy = .standard,
        logger: Logger = Logger(label: "gmall.amqp.consumer"), observe: @escaping @Sendable (AMQPSettlement) -> Void = { _ in },
        batches: @escaping BatchHandler
    ) {
        self.observe = observe
        self.retry = retry
        self.endpoint = endpoint
        self.topology = topology
        self.queue = queue
        self.batchSize = max(1, batchSize)
        self.parallelism = max(1, parallelism)
        // The broker's prefetch is a UInt16.
        self.prefetch = min(max(prefetch, self.parallelism * self.batchSize), Int(UInt16.max))
        self.deadLetterExchange = deadLetterExchange
        self.deadLetters = deadLetters
        self.handler = batches
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
                            // The rest of a batch is what is already here: a zero timeout only reads
                            // what the socket holds.
                            var batch = [delivery]
                            do {
                                while batch.count < batchSize, let more = try await connection.nextDelivery(timeoutMilliseconds: 0) {
                                    batch.append(more)
                                }
                            } catch {
                                await slots.release()
                                throw error
                            }
                            group.addTask {
                                do {
                                    try await self.settle(batch, on: connection)
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

    private func settle(_ batch: [AMQPDelivery], on connection: AMQPConnection) async throws {
        var outcomes: [AMQPOutcome]
        do {
            outcomes = try await handler(batch)
            if outcomes.count != batch.count {
                let reason = "the handler answered \(outcomes.count) outcomes for \(batch.count) deliveries"
                logger.error("amqp.batch.miscounted", metadata: ["error.message": "\(reason)"])
                outcomes = Array(repeating: .retry(reason: reason), count: batch.count)
            }
        } catch {
            outcomes = Array(repeating: .retry(reason: "\(error)"), count: batch.count)
        }
        // The acks go out together (one trip to the connection's thread); the others one by one.
        let acked = zip(batch, outcomes).filter { $0.1 == .ack }.map(\.0.deliveryTag)
        if !acked.isEmpty {
            try await connection.ack(acked)
            for _ in acked { observe(.ack) }
        }
        for (delivery, outcome) in zip(batch, outcomes) where outcome != .ack {
            try await settle(delivery, outcome: outcome, on: connection)
        }
    }

    private func settle(_ delivery: AMQPDelivery, outcome: AMQPOutcome, on connection: AMQPConnection) async throws {
        let metadata: Logger.Metadata = [
            "messaging.message.id": "\(delivery.messageID ?? "-")", "messaging.rabbitmq.message.delivery_tag": "\(delivery.deliveryTag)",
            "messaging.rabbitmq.attempt": "\(delivery.attempt)",
        ]
        switch outcome {
        case .ack:
            try await connection.ack([delivery.deliveryTag])
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
            try await connection.ack([delivery.deliveryTag])
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
            try await connection.ack([delivery.deliveryTag])
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

extension Array where Element == AMQPDelivery {
    /// One handler call per delivery, one after the other (a single-delivery handler as a batch one).
    fileprivate func asyncMap(_ handler: AMQPConsumer.Handler) async throws -> [AMQPOutcome] {
        var outcomes: [AMQPOutcome] = []
        outcomes.reserveCapacity(count)
        for delivery in self {
            do {
                outcomes.append(try await handler(delivery))
            } catch {
                outcomes.append(.retry(reason: "\(error)"))
            }
        }
        return outcomes
    }
}
