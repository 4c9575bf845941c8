import AMQP
import Foundation
import Logging
import ServiceLifecycle
import Testing

/// A private topology per test: its own queue with a dead-letter queue, on test exchanges.
struct ScratchTopology {
    let queue = "TEST-\(UUID().uuidString.prefix(8))"
    var dlq: String { queue + ".dlq" }
    var routingKey: String { "test." + queue }
    var topology: AMQPTopology {
        AMQPTopology(
            exchanges: [.init(name: "TEST-EXCHANGE", type: "topic"), .init(name: "TEST-DLX", type: "direct")],
            queues: [
                .init(name: queue, arguments: ["x-dead-letter-exchange": .string("TEST-DLX"), "x-dead-letter-routing-key": .string(queue)],
                      bindings: [.init(exchange: "TEST-EXCHANGE", routingKey: routingKey)]),
                .init(name: dlq, bindings: [.init(exchange: "TEST-DLX", routingKey: queue)]),
            ] + Self.retry.retryQueues(for: queue))
    }
    /// Two quick retries.
    static let retry = AMQPRetryPolicy(delays: [100, 200])

    func message(_ text: String, id: String = UUID().uuidString) -> AMQPMessage {
        AMQPMessage(exchange: "TEST-EXCHANGE", routingKey: routingKey, body: Array(text.utf8), messageID: id)
    }

    func cleanUp() async {
        guard let c = try? await AMQPConnection.connect(TestServers.amqp) else { return }
        try? await c.delete(queue: queue)
        try? await c.delete(queue: dlq)
        for retryQueue in Self.retry.retryQueues(for: queue) { try? await c.delete(queue: retryQueue.name) }
        await c.close()
    }
}

/// Runs `body` on a new connection to the test broker and closes it however `body` ends:
/// `defer` cannot await, and a connection dropped unclosed asserts, which would crash the test
/// process instead of failing the test.
@discardableResult
func withConnection<T>(_ body: (AMQPConnection) async throws -> T) async throws -> T {
    let connection = try await AMQPConnection.connect(TestServers.amqp)
    do {
        let value = try await body(connection)
        await connection.close()
        return value
    } catch {
        await connection.close()
        throw error
    }
}

/// Runs `body` with a publisher on the test broker and closes it however `body` ends (same
/// reasons as `withConnection`). Not for a publisher run in a `ServiceGroup`: the group closes it.
@discardableResult
func withPublisher<T>(_ topology: AMQPTopology, _ body: (AMQPPublisher) async throws -> T) async throws -> T {
    let publisher = AMQPPublisher(endpoint: TestServers.amqp, topology: topology)
    do {
        let value = try await body(publisher)
        await publisher.close()
        return value
    } catch {
        await publisher.close()
        throw error
    }
}

/// Waits for the first delivery on `queue`, up to `seconds`.
func receive(_ connection: AMQPConnection, seconds: Int = 5) async throws -> AMQPDelivery? {
    for _ in 0..<(seconds * 4) {
        if let d = try await connection.nextDelivery(timeoutMilliseconds: 250) { return d }
    }
    return nil
}

@Suite("AMQP wrapper against the real broker")
struct AMQPTests {
    @Test("a published message is confirmed, consumed with its id and headers, and acked")
    func publishConsumeAck() async throws {
        let scratch = ScratchTopology()
        defer { Task { await scratch.cleanUp() } }
        try await withPublisher(scratch.topology) { publisher in
            var message = scratch.message(#"{"orderSn":"1"}"#, id: "m-1")
            message.headers = ["x-trace": "abc"]
            try await publisher.publish(message)

            try await withConnection { consumer in
                try await consumer.consume(queue: scratch.queue, prefetch: 1)
                let delivery = try #require(try await receive(consumer))
                #expect(String(decoding: delivery.body, as: UTF8.self) == #"{"orderSn":"1"}"#)
                #expect(delivery.messageID == "m-1")
                #expect(delivery.headers["x-trace"] == "abc")
                try await consumer.ack(delivery.deliveryTag)

                try await withConnection { (check: AMQPConnection) async throws in
                    #expect(try await check.messageCount(queue: scratch.queue) == 0)
                }
            }
        }
    }

    @Test("a rejected message lands in its dead-letter queue")
    func rejectGoesToDLQ() async throws {
        let scratch = ScratchTopology()
        defer { Task { await scratch.cleanUp() } }
        try await withPublisher(scratch.topology) { publisher in
            try await publisher.publish(scratch.message("poison"))
            try await withConnection { consumer in
                try await consumer.consume(queue: scratch.queue, prefetch: 1)
                let delivery = try #require(try await receive(consumer))
                try await consumer.reject(delivery.deliveryTag)

                try await withConnection { (check: AMQPConnection) async throws in
                    // The broker dead-letters after the reject returns: look until it has.
                    var dead: AMQPDelivery?
                    _ = try await eventually(seconds: 5) { dead = try await check.get(queue: scratch.dlq); return dead != nil }
                    let body = try #require(dead).body
                    #expect(String(decoding: body, as: UTF8.self) == "poison")
                }
            }
        }
    }

    @Test("an unroutable publish is not confirmed: it throws instead of vanishing")
    func unroutableThrows() async throws {
        let scratch = ScratchTopology()
        defer { Task { await scratch.cleanUp() } }
        try await withPublisher(scratch.topology) { publisher in
            var message = scratch.message("lost")
            message.routingKey = "nobody.listens.\(UUID().uuidString)"
            await #expect(throws: AMQPError.self) { try await publisher.publish(message) }
        }
    }

    @Test("concurrent publishers share one pipelined connection: 20 callers x 25 messages all confirmed, each consumed once")
    func pipelinedPublishes() async throws {
        let scratch = ScratchTopology()
        defer { Task { await scratch.cleanUp() } }
        try await withPublisher(scratch.topology) { publisher in
            try await publisher.ping()
            let unconfirmed = await withTaskGroup(of: Int.self) { group in
                for caller in 0..<20 {
                    group.addTask {
                        let batch = (0..<25).map { scratch.message("\(caller)-\($0)", id: "\(caller)-\($0)") }
                        return await publisher.publish(batch).filter { $0 != nil }.count
                    }
                }
                return await group.reduce(0, +)
            }
            #expect(unconfirmed == 0)
            try await withConnection { consumer in
                try await consumer.consume(queue: scratch.queue, prefetch: 100)
                var seen: [String: Int] = [:]
                while seen.count < 500, let delivery = try await receive(consumer, seconds: 2) {
                    seen[delivery.messageID ?? "?", default: 0] += 1
                    try await consumer.ack(delivery.deliveryTag)
                }
                #expect(seen.count == 500)
                #expect(seen.values.allSatisfy { $0 == 1 })
            }
        }
    }

    @Test("in a batch, only the unroutable message is reported unconfirmed; its neighbours are confirmed")
    func unroutableInABatch() async throws {
        let scratch = ScratchTopology()
        defer { Task { await scratch.cleanUp() } }
        try await withPublisher(scratch.topology) { publisher in
            var lost = scratch.message("lost", id: "lost")
            lost.routingKey = "nobody.listens.\(UUID().uuidString)"
            let errors = await publisher.publish([scratch.message("a", id: "a"), lost, scratch.message("b", id: "b")])
            #expect(errors.count == 3)
            #expect(errors[0] == nil && errors[2] == nil)
            #expect(errors[1]?.kind == .notConfirmed)
            try await withConnection { (check: AMQPConnection) async throws in
                #expect(try await check.messageCount(queue: scratch.queue) == 2)
            }
        }
    }

    @Test("with quorum queues (GMALL_AMQP_QUORUM_QUEUES=true) the queues, their retry queues and DLQ are declared as quorum queues and carry messages")
    func quorumQueues() async throws {
        let scratch = ScratchTopology()
        defer { Task { await scratch.cleanUp() } }
        let topology = scratch.topology.quorum()
        try await withPublisher(topology) { publisher in
            try await publisher.publish(scratch.message("q"))
            try await withConnection { (check: AMQPConnection) async throws in
                let arrived = try await eventually { try await check.messageCount(queue: scratch.queue) == 1 }
                #expect(arrived)
                // Declaring the same name as a classic queue is refused: the type is part of the queue.
                try await withConnection { classic in
                    await #expect(throws: AMQPError.self) { try await classic.declare(scratch.topology) }
                }
            }
        }
    }

    @Test("publishing to an exchange that does not exist throws a broker error")
    func missingExchangeThrows() async throws {
        try await withConnection { connection in
            try await connection.enableConfirms()
            let message = AMQPMessage(exchange: "NO-SUCH-EXCHANGE-\(UUID().uuidString)", routingKey: "x", body: [1], messageID: "x")
            await #expect(throws: AMQPError.self) { try await connection.publish(message) }
        }
    }

    @Test("the consumer service acks handled messages, retries a failure after each delay of its policy, then dead-letters it with the reason and the attempt count")
    func consumerServiceRetryThenDeadLetter() async throws {
        let scratch = ScratchTopology()
        defer { Task { await scratch.cleanUp() } }
        let publisher = AMQPPublisher(endpoint: TestServers.amqp, topology: scratch.topology)
        let seen = Seen()
        let consumer = AMQPConsumer(
            endpoint: TestServers.amqp, topology: scratch.topology, queue: scratch.queue, prefetch: 2,
            deadLetterExchange: "TEST-DLX", deadLetters: publisher, retry: ScratchTopology.retry
        ) { delivery in
            let text = String(decoding: delivery.body, as: UTF8.self)
            await seen.add(text)
            await seen.add("\(text)#\(delivery.attempt)")
            if text == "bad" { throw TestFailure("cannot handle bad") }
            return .ack
        }
        let group = ServiceGroup(services: [publisher, consumer], logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await publisher.publish(scratch.message("good"))
            try await publisher.publish(scratch.message("bad"))
            try await withConnection { (check: AMQPConnection) async throws in
                let dead = try await eventually { try await check.messageCount(queue: scratch.dlq) == 1 }
                #expect(dead)
                #expect(await seen.count("good") == 1)
                #expect(await seen.count("bad") == 3, "two retries, then dead-lettered")
                for attempt in 1...3 { #expect(await seen.count("bad#\(attempt)") == 1) }
                let letter = try #require(try await check.get(queue: scratch.dlq))
                #expect(letter.headers["x-death-reason"]?.contains("cannot handle bad") == true)
                #expect(letter.headers["x-attempt"] == "3")
                #expect(try await check.messageCount(queue: scratch.queue) == 0)
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}

extension AMQPTests {
    @Test("a consumer with parallelism 4 runs up to four handlers at once, never more, and acks every message once")
    func parallelHandlers() async throws {
        let scratch = ScratchTopology()
        defer { Task { await scratch.cleanUp() } }
        let publisher = AMQPPublisher(endpoint: TestServers.amqp, topology: scratch.topology)
        let running = Running()
        let consumer = AMQPConsumer(
            endpoint: TestServers.amqp, topology: scratch.topology, queue: scratch.queue, prefetch: 8, parallelism: 4,
            deadLetterExchange: "TEST-DLX", deadLetters: publisher
        ) { delivery in
            await running.enter(String(decoding: delivery.body, as: UTF8.self))
            try await Task.sleep(for: .milliseconds(200))
            await running.leave()
            return .ack
        }
        let group = ServiceGroup(services: [publisher, consumer], logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let errors = await publisher.publish((0..<16).map { scratch.message("m\($0)") })
            #expect(errors.allSatisfy { $0 == nil })
            #expect(try await eventually { await running.handled.count == 16 })
            try await withConnection { (check: AMQPConnection) async throws in
                #expect(try await eventually { try await check.messageCount(queue: scratch.queue) == 0 })
            }
            #expect(await running.peak == 4)
            #expect(Set(await running.handled).count == 16)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}

extension AMQPTests {
    @Test("a batch consumer hands over what has arrived, at most batchSize at once; each delivery is settled by its own outcome, and a batch that throws is retried whole")
    func batchHandlers() async throws {
        let scratch = ScratchTopology()
        defer { Task { await scratch.cleanUp() } }
        let publisher = AMQPPublisher(endpoint: TestServers.amqp, topology: scratch.topology)
        let batches = Batches()
        let consumer = AMQPConsumer(
            endpoint: TestServers.amqp, topology: scratch.topology, queue: scratch.queue, batchSize: 8,
            deadLetterExchange: "TEST-DLX", deadLetters: publisher, retry: ScratchTopology.retry
        ) { deliveries in
            let texts = deliveries.map { String(decoding: $0.body, as: UTF8.self) }
            // The first batch holding "boom" fails as a whole: every delivery in it comes back.
            if texts.contains("boom"), await batches.firstBoom() { throw TestFailure("the batch failed") }
            await batches.add(texts, attempts: deliveries.map(\.attempt))
            return texts.map { $0 == "poison" ? .deadLetter(reason: "poison") : .ack }
        }
        // Published before the consumer starts: the queue holds them all, so batches fill.
        let texts = (0..<29).map { "m\($0)" } + ["poison", "boom"]
        let errors = await publisher.publish(texts.map { scratch.message($0) })
        #expect(errors.allSatisfy { $0 == nil })
        let group = ServiceGroup(services: [publisher, consumer], logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await withConnection { (check: AMQPConnection) async throws in
                #expect(try await eventually { try await check.messageCount(queue: scratch.dlq) == 1 })
                #expect(try await eventually { await Set(batches.handled).isSuperset(of: texts) })
                #expect(try await eventually { try await check.messageCount(queue: scratch.queue) == 0 })
                let letter = try #require(try await check.get(queue: scratch.dlq))
                #expect(String(decoding: letter.body, as: UTF8.self) == "poison")
            }
            let sizes = await batches.sizes
            #expect(sizes.max() == 8, "a full queue fills a batch, and never past its size: \(sizes)")
            // Each message handled once, but those of the failed batch twice (attempt 2 the second time).
            let handled = await batches.handled
            #expect(handled.filter { $0 == "boom" }.count == 1)
            #expect(await batches.attempts["boom"] == 2)
            for text in texts where text != "boom" { #expect(handled.filter { $0 == text }.count == 1, "\(text)") }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}

actor Batches {
    var sizes: [Int] = []
    var handled: [String] = []
    var attempts: [String: Int] = [:]
    private var boomed = false
    func firstBoom() -> Bool { defer { boomed = true }; return !boomed }
    func add(_ texts: [String], attempts: [Int]) {
        sizes.append(texts.count)
        handled += texts
        for (text, attempt) in zip(texts, attempts) { self.attempts[text] = attempt }
    }
}

actor Running {
    var now = 0, peak = 0
    var handled: [String] = []
    func enter(_ s: String) { now += 1; peak = max(peak, now); handled.append(s) }
    func leave() { now -= 1 }
}

actor Seen {
    var items: [String] = []
    func add(_ s: String) { items.append(s) }
    func count(_ s: String) -> Int { items.filter { $0 == s }.count }
}

/// Restarts the broker, so it runs alone: `swift test --filter BrokerRestart` (the test command
/// runs it after the rest).
@Suite("BrokerRestart", .serialized)
struct BrokerRestartTests {
    @Test("a confirmed persistent message survives a broker restart, and publisher and consumer reconnect")
    func survivesRestart() async throws {
        let scratch = ScratchTopology()
        let publisher = AMQPPublisher(endpoint: TestServers.amqp, topology: scratch.topology)
        try await publisher.publish(scratch.message("before restart"))

        try TestServers.servers("restart-rabbitmq")

        let seen = Seen()
        let consumer = AMQPConsumer(
            endpoint: TestServers.amqp, topology: scratch.topology, queue: scratch.queue,
            deadLetterExchange: "TEST-DLX", deadLetters: publisher
        ) { delivery in
            await seen.add(String(decoding: delivery.body, as: UTF8.self))
            return .ack
        }
        let group = ServiceGroup(services: [publisher, consumer], logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            // The publisher's old connection is dead: it must reconnect by itself.
            try await publisher.publish(scratch.message("after restart"))
            let both = try await eventually(seconds: 20) { await seen.items.count == 2 }
            #expect(both)
            #expect(await seen.items.sorted() == ["after restart", "before restart"])
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        await scratch.cleanUp()
    }
}
