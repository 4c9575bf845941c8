import Logging
import ServiceLifecycle

/// Publishes persistent messages with publisher confirms over one connection, reconnecting
/// (and re-declaring the topology) after the broker went away. A `Service`: closes on shutdown.
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
        await connection?.close()
        connection = nil
    }

    /// Returns once the broker confirmed the message; throws if it was not confirmed.
    /// A broken connection is reopened and the publish tried once more.
    public func publish(_ message: AMQPMessage) async throws {
        do {
            try await connected().publish(message)
        } catch let error as AMQPError where error.kind == .connection || error.kind == .broker || error.kind == .timeout {
            logger.warning("amqp.publish.retry", metadata: ["error": "\(error)", "amqp.routing_key": "\(message.routingKey)"])
            connection = nil
            try await connected().publish(message)
        } catch {
            connection = nil
            throw error
        }
    }

    /// Opens the connection if needed; used by health checks too.
    public func ping() async throws {
        _ = try await connected()
    }

    private func connected() async throws -> AMQPConnection {
        if let connection { return connection }
        let fresh = try await AMQPConnection.connect(endpoint)
        try await fresh.declare(topology)
        try await fresh.enableConfirms()
        connection = fresh
        return fresh
    }
}
