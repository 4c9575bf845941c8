/// Exchanges, queues and bindings to declare; declaring twice is harmless.
public struct AMQPTopology: Sendable {
    public struct Exchange: Sendable {
        public let name: String
        public let type: String
        public init(name: String, type: String) { self.name = name; self.type = type }
    }

    public struct Binding: Sendable {
        public let exchange: String
        public let routingKey: String
        public init(exchange: String, routingKey: String) { self.exchange = exchange; self.routingKey = routingKey }
    }

    public struct Queue: Sendable {
        public let name: String
        public let arguments: [String: AMQPArgument]
        public let bindings: [Binding]
        public init(name: String, arguments: [String: AMQPArgument] = [:], bindings: [Binding]) {
            self.name = name
            self.arguments = arguments
            self.bindings = bindings
        }
    }

    public var exchanges: [Exchange]
    public var queues: [Queue]

    public init(exchanges: [Exchange], queues: [Queue]) {
        self.exchanges = exchanges
        self.queues = queues
    }

    /// The same topology with every queue a quorum queue (`x-queue-type: quorum`): replicated on a
    /// RabbitMQ cluster, so a publisher confirm means a majority has the message.
    public func quorum() -> AMQPTopology {
        AMQPTopology(exchanges: exchanges, queues: queues.map {
            Queue(name: $0.name, arguments: $0.arguments.merging(["x-queue-type": .string("quorum")]) { $1 }, bindings: $0.bindings)
        })
    }
}
