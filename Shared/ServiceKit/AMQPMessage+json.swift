import AMQP
import Contracts
import Foundation

extension AMQPMessage {
    /// A persistent JSON message for `route` on `ORDER-EXCHANGE`, its id made from its order,
    /// carrying the current trace context.
    package static func json<T: OrderMessage>(_ payload: T, route: Messaging.Route) throws -> AMQPMessage {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return AMQPMessage(
            exchange: Messaging.exchange, routingKey: route.routingKey, body: Array(try encoder.encode(payload)),
            messageID: route.messageID(orderSn: payload.orderSn), headers: ShopTracing.messageHeaders())
    }
}

extension AMQPDelivery {
    /// Decodes the JSON body; a failure means the message is malformed (dead-letter it).
    package func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(body))
    }
}
