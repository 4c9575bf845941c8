import Logging
import ServiceLifecycle

/// Publishes persistent messages with publisher confirms over one connection, reconnecting
/// (and re-declaring the topology) after the broker went away; a connection it replaces is
/// closed. A `Service`: closes on shutdown. An owner that does not run it must call `close()`
/// before dropping it: its connection asserts in debug builds that it was closed.
public actor AMQPPublisher: Service {
    private let endpoint: AMQPEndpoint
    private let topology: AMQPTopology
    private let logger: Logger
    private var connection: AMQPConnection?

    public init(endpoint: AMQPEndpoint, topology: AMQPTopology, logger: Logger = Logger(label: "gmall.amqp.publisher")) {
        self.endpoint = endpoint
        self.topology = topology
        self.logger = logger
    }

    public func run() async throws {
        try? await gracefulShutdown()
        await close()
    }

    /// Closes the connection, if one is open; a later publish opens a new one.
    public func close() async {
        guard let open = connection else { return }
        connection = nil
        await open.close()
    }

    /// Returns once the broker confirmed the message; throws if it was not confirmed.
    /// A broken connection is reopened and the publish tried once more.
    public func publish(_ message: AMQPMessage) async throws {
        var used: AMQPConnection?
        do {
            let current = try await connected()
            used = current
            try await current.publish(message)
        } catch let error as AMQPError where error.kind == .connection || error.kind == .broker || error.kind == .timeout {
            logger.warning("amqp.publish.retry", error: error, metadata: ["messaging.rabbitmq.destination.routing_key": "\(message.routingKey)"])
            await drop(used)
            try await connected().publish(message)
        } catch {
            await drop(used)
            throw error
        }
    }

    /// Publishes `messages` in order and waits for their confirms; one entry per message, `nil`
    /// when confirmed. Those that failed on a broken connection (or timed out) are published
    /// once more on a fresh one. Concurrent callers share the connection's pipeline.
    public func publish(_ messages: [AMQPMessage]) async -> [AMQPError?] {
        let current: AMQPConnection
        do {
            current = try await connected()
        } catch {
            return Array(repeating: Self.connectError(error), count: messages.count)
        }
        var errors = await current.publish(messages)
        let retry = errors.indices.filter { errors[$0].map { $0.kind != .notConfirmed } ?? false }
        guard !retry.isEmpty else { return errors }
        logger.warning("amqp.publish.retry", error: errors[retry[0]]!, metadata: ["messaging.batch.message_count": "\(retry.count)"])
        await drop(current)
        do {
            let again = try await connected().publish(retry.map { messages[$0] })
            for (i, error) in zip(retry, again) { errors[i] = error }
        } catch {
            for i in retry { errors[i] = Self.connectError(error) }
        }
        return errors
    }

    private static func connectError(_ error: any Error) -> AMQPError {
        error as? AMQPError ?? AMQPError(kind: .connection, message: "\(error)")
    }

    /// Opens the connection if needed; used by health checks too.
    public func ping() async throws {
        _ = try await connected()
    }

    private func connected() async throws -> AMQPConnection {
        if let connection { return connection }
        let fresh = try await AMQPConnection.connect(endpoint)
        do {
            try await fresh.declare(topology)
            try await fresh.enableConfirms()
        } catch {
            await fresh.close()
            throw error
        }
        // Another caller may have connected during the awaits above: keep theirs, close this one.
        if let connection {
            await fresh.close()
            return connection
        }
        connection = fresh
        return fresh
    }

    /// Forgets `failed` (unless another caller already replaced it) and closes it. Publishes
    /// already queued on it finish first; later ones on it fail with `.connection` and are retried
    /// on a fresh connection.
    private func drop(_ failed: AMQPConnection?) async {
        guard let failed else { return }
        if connection === failed { connection = nil }
        await failed.close()
    }
}
