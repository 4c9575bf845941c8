import AMQP
import Contracts

extension AMQPTopology {
    /// `topology` plus the retry queues `retry` parks failed deliveries of every consumed queue in;
    /// with `quorum`, every queue a quorum queue.
    package static func withRetries(_ topology: AMQPTopology, _ retry: AMQPRetryPolicy, quorum: Bool = false) -> AMQPTopology {
        var topology = topology
        for route in Messaging.consumed { topology.queues += retry.retryQueues(for: route.queue) }
        return quorum ? topology.quorum() : topology
    }

    /// docs/ARCHITECTURE.md's topology: `ORDER-EXCHANGE` (topic) with one durable queue per route,
    /// each dead-lettering through `ORDER-DLX` (direct) into `<queue>.dlq`.
    package static let gmall: AMQPTopology = {
        let exchange = Messaging.exchange
        let dlx = Messaging.deadLetterExchange
        var queues: [Queue] = []
        for route in Messaging.consumed {
            queues.append(Queue(
                name: route.queue,
                arguments: ["x-dead-letter-exchange": .string(dlx), "x-dead-letter-routing-key": .string(route.queue)],
                bindings: [Binding(exchange: exchange, routingKey: route.routingKey)]))
            queues.append(Queue(name: route.deadLetterQueue, bindings: [Binding(exchange: dlx, routingKey: route.queue)]))
        }
        return AMQPTopology(
            exchanges: [Exchange(name: exchange, type: "topic"), Exchange(name: dlx, type: "direct")],
            queues: queues)
    }()
}

extension AMQPTopology {
    /// `.gmall` plus the delay queue of an order timeout: `ORDER-DELAY-<N>s` (queue TTL N s, no
    /// consumer) whose expired messages go back to `ORDER-EXCHANGE` as `order.close`. Declared
    /// by the service that parks orders there (oms).
    package static func gmall(orderTimeoutSeconds seconds: Int) -> AMQPTopology {
        let delay = Messaging.orderDelay(seconds: seconds)
        var topology = AMQPTopology.gmall
        topology.queues.append(Queue(
            name: delay.queue,
            arguments: [
                "x-message-ttl": .int(Int64(seconds) * 1000),
                "x-dead-letter-exchange": .string(Messaging.exchange),
                "x-dead-letter-routing-key": .string(Messaging.orderClose.routingKey),
            ],
            bindings: [Binding(exchange: Messaging.exchange, routingKey: delay.routingKey)]))
        return topology
    }
}
