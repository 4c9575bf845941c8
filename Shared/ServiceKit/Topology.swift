import AMQP
import Contracts

extension AMQPTopology {
    /// DESIGN.md's topology: `ORDER-EXCHANGE` (topic) with one durable queue per route, each
    /// dead-lettering through `ORDER-DLX` (direct) into `<queue>.dlq`; and `ORDER-DELAY-QUEUE`,
    /// whose expired messages go back to `ORDER-EXCHANGE` as `order.close`.
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
        queues.append(Queue(
            name: Messaging.orderDelay.queue,
            arguments: [
                "x-dead-letter-exchange": .string(exchange),
                "x-dead-letter-routing-key": .string(Messaging.orderClose.routingKey),
            ],
            bindings: [Binding(exchange: exchange, routingKey: Messaging.orderDelay.routingKey)]))
        return AMQPTopology(
            exchanges: [Exchange(name: exchange, type: "topic"), Exchange(name: dlx, type: "direct")],
            queues: queues)
    }()
}
