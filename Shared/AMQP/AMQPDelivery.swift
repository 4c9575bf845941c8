/// A message as received, with what is needed to settle it.
public struct AMQPDelivery: Sendable {
    public let deliveryTag: UInt64
    public let redelivered: Bool
    public let exchange: String
    public let routingKey: String
    public let messageID: String?
    public let headers: [String: String]
    public let body: [UInt8]

    public init(deliveryTag: UInt64, redelivered: Bool, exchange: String, routingKey: String, messageID: String?, headers: [String: String], body: [UInt8]) {
        self.deliveryTag = deliveryTag
        self.redelivered = redelivered
        self.exchange = exchange
        self.routingKey = routingKey
        self.messageID = messageID
        self.headers = headers
        self.body = body
    }
}
