import Foundation
import ServiceKit

/// Configuration of the seckill (flash-sale) service.
///
/// Keys and defaults, besides everything in `ServiceConfig` (HTTP port 18094, database `guli_sms`):
/// - `GMALL_WMS_URL` = `http://127.0.0.1:19093` (wms's internal listener: reservations)
/// - `GMALL_JWT_PUBLIC_KEY` or `GMALL_JWT_PUBLIC_KEY_FILE` = `$GMALL_KEYS/jwt_public.pem`
/// - `SECKILL_PAY_WAIT_MS` = 3000 (how long `/miaosha/pay` waits on the order's latch)
/// - `SECKILL_LATCH_TTL_MS` = 600000 (a latch's lifetime)
/// - `SECKILL_BUCKET_CAPACITY` = 10, `SECKILL_BUCKET_RATE` = 5 (a buyer's token bucket per sku: burst, tokens/s)
/// - `SECKILL_KEEPER_INTERVAL_MS` = 500 (how often sessions are checked: preload after a Redis loss, end, release)
/// - `SECKILL_RECONCILE_INTERVAL_MS` = 5000 (how often Redis is checked against the durable wins; at
///   once after Redis restarted)
/// - `SECKILL_CHALLENGE_BITS` = 18 (a new session's proof-of-work unless it says otherwise: about
///   half a second in a browser; 0 turns it off)
/// - `SECKILL_CHALLENGE_SECONDS` = 120 (how long a challenge nonce is good for)
public struct SeckillServiceConfig: Sendable {
    public var shared: ServiceConfig
    public let database = "guli_sms"
    public var wmsURL: String
    public var jwtPublicKey: String
    public var payWait: Duration
    public var latchTTLMilliseconds: Int
    public var bucketCapacity: Int
    public var bucketRate: Int
    public var keeperInterval: Duration
    public var reconcileInterval: Duration
    public var challengeBits: Int
    public var challengeLifetime: TimeInterval

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        let env = ProcessEnvironment(values: environment)
        shared = ServiceConfig(env: env, service: "seckill", defaultPort: 18094, database: "guli_sms")
        let keys = shared.keysDirectory
        wmsURL = env["GMALL_WMS_URL"] ?? "http://127.0.0.1:19093"
        jwtPublicKey = try env.secretOrFile("GMALL_JWT_PUBLIC_KEY", default: keys + "/jwt_public.pem")
        payWait = .milliseconds(env.int("SECKILL_PAY_WAIT_MS") ?? 3000)
        latchTTLMilliseconds = env.int("SECKILL_LATCH_TTL_MS") ?? 600_000
        bucketCapacity = env.int("SECKILL_BUCKET_CAPACITY") ?? 10
        bucketRate = env.int("SECKILL_BUCKET_RATE") ?? 5
        keeperInterval = .milliseconds(env.int("SECKILL_KEEPER_INTERVAL_MS") ?? 500)
        reconcileInterval = .milliseconds(env.int("SECKILL_RECONCILE_INTERVAL_MS") ?? 5000)
        challengeBits = min(24, max(0, env.int("SECKILL_CHALLENGE_BITS") ?? 18))
        challengeLifetime = TimeInterval(max(10, env.int("SECKILL_CHALLENGE_SECONDS") ?? 120))
        try env.check()
        shared.effective = env.effective
    }
}
