/// An outgoing persistent message.
public struct AMQPMessage: Sendable {
    public var exchange: String
    public var routingKey: String
    public var body: [UInt8]
    public var messageID: String
    public var contentType: String
    public var headers: [String: String]
    /// Per-message TTL in milliseconds, as text (`expiration` property).
    public var expiration: String?

    public init(exchange: String, routingKey: String, body: [UInt8], messageID: String, contentType: String = "application/json", headers: [String: String] = [:], expiration: String? = nil) {
        self.exchange = exchange
        self.routingKey = routingKey
        self.body = body
        self.messageID = messageID
        self.contentType = contentType
        self.headers = headers
        self.expiration = expiration
    }
}
