import Contracts
import Foundation
import ServiceKit

/// Configuration of the oms service (orders, and the points ledger with its own database).
///
/// Keys: everything in `ServiceConfig` (HTTP port 18091, database `guli_oms`), and
/// `GMALL_UMS_PG_URL` (secret) = `postgresql://postgres@127.0.0.1:55432/guli_ums` for the points ledger,
/// `GMALL_WMS_URL` = `http://127.0.0.1:19093` (wms's internal listener),
/// `GMALL_JWT_PUBLIC_KEY` or `GMALL_JWT_PUBLIC_KEY_FILE` = `$GMALL_KEYS/jwt_public.pem` (buyers' logins),, `GMALL_ORDER_TIMEOUT_SECONDS` = 1800 (an unpaid order closes),
/// `OMS_SECKILL_BATCH` = 50 (the most `sec.kill` messages made into orders together, 1 … 500),
/// `OMS_SECKILL_PARALLELISM` = 4 (such batches at once, 1 … 64).
public struct OrderServiceConfig: Sendable {
    public var shared: ServiceConfig
    /// The orders database name, also the migrations sub-folder.
    public let database = "guli_oms"
    /// The points ledger's database.
    public let pointsDatabase = "guli_ums"
    public var pointsPostgresURL: String
    public var wmsURL: String
    public var closeAfterSeconds: Int
    /// How many batches of `sec.kill` messages are turned into orders at once.
    public var seckillParallelism: Int
    /// The most `sec.kill` messages in one batch (one wms call, one statement for the orders).
    public var seckillBatch: Int
    public var jwtPublicKey: String

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        let env = ProcessEnvironment(values: environment)
        shared = ServiceConfig(env: env, service: "oms", defaultPort: 18091, database: "guli_oms")
        pointsPostgresURL = Self.pointsURL(environment: environment)
        wmsURL = env["GMALL_WMS_URL"] ?? "http://127.0.0.1:19093"
        closeAfterSeconds = env.int("GMALL_ORDER_TIMEOUT_SECONDS") ?? 1800
        seckillParallelism = env.int("OMS_SECKILL_PARALLELISM") ?? 4
        seckillBatch = env.int("OMS_SECKILL_BATCH") ?? 50
        if !(1...64).contains(seckillParallelism) { env.refuse("OMS_SECKILL_PARALLELISM", "must be within 1...64") }
        if !InputLimits.batch.contains(seckillBatch) {
            env.refuse("OMS_SECKILL_BATCH", "must be within \(InputLimits.batch.lowerBound)...\(InputLimits.batch.upperBound)")
        }
        jwtPublicKey = try env.secretOrFile("GMALL_JWT_PUBLIC_KEY", default: shared.keysDirectory + "/jwt_public.pem")
        try env.check()
        shared.effective = env.effective
    }

    /// `GMALL_UMS_PG_URL`, or the local cluster's `guli_ums`.
    public static func pointsURL(environment: [String: String]) -> String {
        let env = ProcessEnvironment(values: environment)
        return env["GMALL_UMS_PG_URL"] ?? ServiceConfig.localPostgresURL(database: "guli_ums", environment: env)
    }
}
