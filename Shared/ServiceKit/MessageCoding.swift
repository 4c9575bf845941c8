import AMQP
import Contracts
import Foundation

extension AMQPMessage {
    /// A persistent JSON message for `route` on `ORDER-EXCHANGE`.
    package static func json<T: Encodable>(_ payload: T, route: Messaging.Route, messageID: String, expiration: String? = nil) throws -> AMQPMessage {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return AMQPMessage(
            exchange: Messaging.exchange, routingKey: route.routingKey, body: Array(try encoder.encode(payload)),
            messageID: messageID, expiration: expiration)
    }
}

extension AMQPDelivery {
    /// Decodes the JSON body; a failure means the message is malformed (dead-letter it).
    package func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(body))
    }
}
