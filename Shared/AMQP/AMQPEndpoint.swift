/// Where and how to reach the broker.
///
/// Keys (environment, see `ServiceConfig`): `GMALL_AMQP_HOST` (127.0.0.1), `GMALL_AMQP_PORT` (55672),
/// `GMALL_AMQP_USER` (guest), `GMALL_AMQP_PASSWORD` (secret, guest), `GMALL_AMQP_VHOST` (/),
/// heartbeat 30 s.
public struct AMQPEndpoint: Sendable {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String
    public var vhost: String
    public var heartbeatSeconds: Int

    public init(host: String = "127.0.0.1", port: Int = 55672, user: String = "guest", password: String = "guest", vhost: String = "/", heartbeatSeconds: Int = 30) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.vhost = vhost
        self.heartbeatSeconds = heartbeatSeconds
    }
}
