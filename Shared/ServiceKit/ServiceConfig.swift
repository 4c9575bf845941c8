import AMQP
import Foundation

/// What every service reads from its environment, with local-cluster defaults.
///
/// Keys and defaults:
/// - `GMALL_HTTP_HOST` = `127.0.0.1`; `GMALL_HTTP_PORT` = the service's public port (payment 18092,
///   oms 18091, wms 18093, seckill 18094): the routes the gateway may expose
/// - `GMALL_INTERNAL_HOST` = `127.0.0.1`; `GMALL_INTERNAL_PORT` = the public port + 1000 (payment
///   19092, oms 19091, wms 19093, seckill 19094 by default): service calls, admin, health details, metrics;
///   never published
/// - `GMALL_SERVICE_KEY` (secret, at least 32 bytes) or `GMALL_SERVICE_KEY_FILE` =
///   `$GMALL_KEYS/service.key`: the key service tokens are signed with (the same in every service)
/// - `GMALL_KEYS` = `<repository>/.cluster/keys` (dev keys made by `deploy/local/up`)
/// - `GMALL_PG_URL` = `$GMALL_PG_BASE_URL/<service database>`, base `postgresql://postgres@127.0.0.1:55432` (secret: may
///   carry a password); `GMALL_PG_POOL_SIZE` = 8
/// - `GMALL_REDIS_HOST` = `127.0.0.1`, `GMALL_REDIS_PORT` = 56379, `GMALL_REDIS_PASSWORD`
///   (secret, unset), `GMALL_REDIS_POOL_SIZE` = 2 (pipelined connections shared by all callers)
/// - `GMALL_AMQP_HOST` = `127.0.0.1`, `GMALL_AMQP_PORT` = 55672, `GMALL_AMQP_USER` = `guest`,
///   `GMALL_AMQP_PASSWORD` (secret) = `guest`, `GMALL_AMQP_VHOST` = `/`
/// - `GMALL_AMQP_RETRY_DELAYS_MS` = `1000,1000,5000,5000,30000,30000,60000`: a failed delivery is
///   tried again after each delay in turn, then dead-lettered (`AMQPRetryPolicy`)
/// - `GMALL_MIGRATIONS` = `<repository>/deploy/migrations`
/// - `GMALL_LOG_LEVEL` = `info`
/// - `GMALL_ADMIN_TOKEN` (secret) or `GMALL_ADMIN_TOKEN_FILE` (unset: the admin endpoints answer 403)
/// - the OpenTelemetry variables of `TracingConfig` (`OTEL_EXPORTER_OTLP_ENDPOINT`, …): tracing, off by default
/// - `GMALL_AMQP_QUORUM_QUEUES` = `false`: `true` declares every queue as a quorum queue
///   (replicated on a RabbitMQ cluster; a queue's type cannot change in place: declare them fresh)
public struct ServiceConfig: Sendable {
    public var httpHost: String
    public var httpPort: Int
    public var internalHost: String
    public var internalPort: Int
    /// Secret: signs and checks service tokens; nil when missing or too short (then every
    /// credentialed call is refused, and the service logs `service.key.missing` at start).
    public var serviceKey: [UInt8]?
    public var keysDirectory: String
    public var postgresURL: String
    public var postgresPoolSize: Int
    public var redisHost: String
    public var redisPort: Int
    public var redisPassword: String?
    public var redisPoolSize: Int
    public var amqp: AMQPEndpoint
    public var amqpRetry: AMQPRetryPolicy
    public var migrationsDirectory: String
    public var logLevel: String
    /// `GMALL_LOG_FORMAT`: `text` (default) or `json` (one object per line, for a log collector).
    public var logFormat: String
    /// Secret: required in `X-Admin-Token` by the dead-letter admin endpoints.
    public var adminToken: String?
    public var amqpQuorumQueues: Bool
    /// Where spans go (`OTEL_*`, `TracingConfig`); off unless an OTLP endpoint is set.
    public var tracing: TracingConfig

    /// Every value read from the environment (this and the service's own keys), secrets
    /// redacted: logged at start (`config.effective`).
    public var effective: [String: String] = [:]

    /// Reads the keys above from `environment`; a value that cannot be used is refused (`ConfigError`).
    public init(environment: [String: String] = ProcessInfo.processInfo.environment, service: String, defaultPort: Int, database: String) throws {
        let env = ProcessEnvironment(values: environment)
        self.init(env: env, service: service, defaultPort: defaultPort, database: database)
        try env.check()
        effective = env.effective
    }

    /// Reads the keys above from `env`, for `service` on `defaultPort` using `database`; the
    /// service reads its own keys from the same `env`, then calls `env.check()`.
    public init(env: ProcessEnvironment, service: String, defaultPort: Int, database: String) {
        httpHost = env["GMALL_HTTP_HOST"] ?? "127.0.0.1"
        httpPort = env.int("GMALL_HTTP_PORT") ?? defaultPort
        internalHost = env["GMALL_INTERNAL_HOST"] ?? "127.0.0.1"
        internalPort = env.int("GMALL_INTERNAL_PORT") ?? httpPort + 1000
        keysDirectory = env["GMALL_KEYS"] ?? Self.repositoryRoot + "/.cluster/keys"
        let key = (try? env.secretOrFile("GMALL_SERVICE_KEY", default: keysDirectory + "/service.key"))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
        serviceKey = key.flatMap { $0.utf8.count >= ServiceToken.minimumKeyBytes ? Array($0.utf8) : nil }
        postgresURL = env["GMALL_PG_URL"] ?? Self.localPostgresURL(database: database, environment: env)
        postgresPoolSize = env.int("GMALL_PG_POOL_SIZE") ?? 8
        redisHost = env["GMALL_REDIS_HOST"] ?? "127.0.0.1"
        redisPort = env.int("GMALL_REDIS_PORT") ?? 56379
        redisPassword = env["GMALL_REDIS_PASSWORD"]
        redisPoolSize = env.int("GMALL_REDIS_POOL_SIZE") ?? 2
        amqp = AMQPEndpoint(
            host: env["GMALL_AMQP_HOST"] ?? "127.0.0.1", port: env.int("GMALL_AMQP_PORT") ?? 55672,
            user: env["GMALL_AMQP_USER"] ?? "guest", password: env["GMALL_AMQP_PASSWORD"] ?? "guest",
            vhost: env["GMALL_AMQP_VHOST"] ?? "/")
        amqpRetry = env.ints("GMALL_AMQP_RETRY_DELAYS_MS").map { AMQPRetryPolicy(delays: $0) } ?? .standard
        migrationsDirectory = env["GMALL_MIGRATIONS"] ?? Self.repositoryRoot + "/deploy/migrations"
        logLevel = env["GMALL_LOG_LEVEL"] ?? "info"
        logFormat = env["GMALL_LOG_FORMAT"] ?? "text"
        // Trimmed either way: a token pasted or written with a trailing newline still matches.
        adminToken = (try? env.secretOrFile("GMALL_ADMIN_TOKEN", default: nil))?.trimmingCharacters(in: .whitespacesAndNewlines)
        amqpQuorumQueues = env.bool("GMALL_AMQP_QUORUM_QUEUES") ?? false
        tracing = TracingConfig(env: env, service: service)
        if postgresPoolSize < 1 { env.refuse("GMALL_PG_POOL_SIZE", "must be at least 1") }
        if redisPoolSize < 1 { env.refuse("GMALL_REDIS_POOL_SIZE", "must be at least 1") }
        if !["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(logLevel) {
            env.refuse("GMALL_LOG_LEVEL", "is not one of trace, debug, info, notice, warning, error, critical")
        }
        if !["text", "json"].contains(logFormat) { env.refuse("GMALL_LOG_FORMAT", "is not text or json") }
    }

    /// The local cluster's URL for `database`: `GMALL_PG_BASE_URL` (default
    /// `postgresql://postgres@127.0.0.1:55432`) followed by the database name.
    public static func localPostgresURL(database: String, environment: ProcessEnvironment = ProcessEnvironment()) -> String {
        (environment["GMALL_PG_BASE_URL"] ?? "postgresql://postgres@127.0.0.1:55432") + "/" + database
    }

    /// The checkout this binary was built from (for local defaults such as the migrations folder).
    public static var repositoryRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
    }
}
