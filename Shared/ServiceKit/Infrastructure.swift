import AMQP
import Contracts
import Logging
import Postgres
import Redis
import ServiceLifecycle

/// The long-lived connections a service holds: its database pool, the Redis pool (if it uses
/// Redis) and the confirming publisher. Each is a `Service`; list them first in the service group.
public struct Infrastructure: Sendable {
    public let config: ServiceConfig
    public let postgres: PostgresPool
    /// The outbox relay's own connection (opened when a relay first uses it): behind the shared
    /// pool, the relay waited for a connection behind every request in flight, and a flood of
    /// notifies delayed the very messages they announced (30 ms of its 55 ms per batch at 64
    /// notifies in flight, measured).
    public let outboxPostgres: PostgresPool
    /// Never connected, started or checked by a service that does not use Redis.
    public let redis: RedisPool
    /// Whether the service uses Redis: payment and wms do not, so their readiness does not fall
    /// with Redis (Alipay's notifies keep settling while Redis is down).
    public let usesRedis: Bool
    public let publisher: AMQPPublisher
    public let logger: Logger

    /// `topology`: what the publisher declares before its first publish (nil: `.gmall`).
    public init(config: ServiceConfig, topology: AMQPTopology? = nil, usesRedis: Bool = true, logger: Logger) {
        self.config = config
        self.usesRedis = usesRedis
        self.logger = logger
        postgres = PostgresPool(
            url: config.postgresURL, maxConnections: config.postgresPoolSize, logger: logger, observe: ShopMetrics.poolWaits(pool: "postgres"))
        outboxPostgres = PostgresPool(url: config.postgresURL, maxConnections: 1, logger: logger, observe: ShopMetrics.poolWaits(pool: "outbox"))
        redis = RedisPool(host: config.redisHost, port: config.redisPort, password: config.redisPassword, maxConnections: config.redisPoolSize, logger: logger)
        publisher = AMQPPublisher(endpoint: config.amqp, topology: .withRetries(topology ?? .gmall, config.amqpRetry, quorum: config.amqpQuorumQueues), logger: logger)
    }

    /// Pools and publisher, in start order.
    public var services: [any Service] { [postgres, outboxPostgres] + (usesRedis ? [redis] : []) + [publisher] }

    /// Closes the pools and the publisher, for an owner that does not run `services` (a build that
    /// throws before the application owns them, a test): each asserts in debug builds that it was
    /// closed before it is dropped. The Redis pool is closed even when unused: it holds no
    /// connection then, and closing it costs nothing.
    package func close() async {
        await postgres.close()
        await outboxPostgres.close()
        redis.close()
        await publisher.close()
    }

    /// Applies the service's migrations from `<GMALL_MIGRATIONS>/<database>`.
    public func migrate(database: String) async throws {
        try await Migrator(directory: config.migrationsDirectory + "/" + database).migrate(postgres, logger: logger)
    }

    /// The same, for a service's build, before the application owns (runs and closes) the pools
    /// and the publisher: if the migrations fail, they are closed here before the error goes on
    /// (`defer` cannot await; each asserts in debug builds that it was closed).
    public func migrateOrClose(database: String) async throws {
        do {
            try await migrate(database: database)
        } catch {
            await close()
            throw error
        }
    }

    /// A consumer of `route`'s queue that dead-letters through this service's publisher; each
    /// delivery is handled in a span continuing the message's trace.
    package func consumer(for route: Messaging.Route, prefetch: Int = 4, parallelism: Int = 1, handler: @escaping AMQPConsumer.Handler) -> AMQPConsumer {
        batchConsumer(for: route, batchSize: 1, prefetch: prefetch, parallelism: parallelism) { deliveries in [try await handler(deliveries[0])] }
    }

    /// A consumer of `route`'s queue whose handler takes up to `batchSize` deliveries at once (what
    /// has arrived, never a wait); each delivery of a batch gets its own span in its own trace
    /// (`ShopTracing.consuming(_:route:_:)`).
    package func batchConsumer(
        for route: Messaging.Route, batchSize: Int = 50, prefetch: Int = 4, parallelism: Int = 1, handler: @escaping AMQPConsumer.BatchHandler
    ) -> AMQPConsumer {
        AMQPConsumer(
            endpoint: config.amqp, topology: .withRetries(.gmall, config.amqpRetry, quorum: config.amqpQuorumQueues), queue: route.queue,
            batchSize: batchSize, prefetch: prefetch, parallelism: parallelism, deadLetterExchange: Messaging.deadLetterExchange,
            deadLetters: publisher, retry: config.amqpRetry, logger: logger, observe: ShopMetrics.deliveries(queue: route.queue)
        ) { deliveries in
            try await ShopTracing.consuming(deliveries, route: route) { try await handler(deliveries) }
        }
    }

    /// The outbox relay of this service's database, on its own connection.
    package func outboxRelay() -> OutboxRelay {
        OutboxRelay(postgres: outboxPostgres, publisher: publisher, logger: logger)
    }

    /// Checks each dependency once; used by `GET /health`.
    public func health() async -> HealthReport {
        async let pg: String = check { try await postgres.query("SELECT 1") }
        async let rd: String? = usesRedis ? check { try await redis.send(["PING"]) } : nil
        async let mq: String = check { try await publisher.ping() }
        var checks = await ["postgres": pg, "rabbitmq": mq]
        if let redis = await rd { checks["redis"] = redis }
        return HealthReport(status: checks.values.allSatisfy { $0 == "UP" } ? "UP" : "DOWN", checks: checks)
    }

    private func check(_ probe: @Sendable () async throws -> some Sendable) async -> String {
        do {
            _ = try await probe()
            return "UP"
        } catch {
            return "DOWN: \(error)"
        }
    }
}
