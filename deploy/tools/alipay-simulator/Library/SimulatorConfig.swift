import Alipay
import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceKit
import ServiceLifecycle
import Signing

/// Configuration of the Alipay simulator (a stand-in for Alipay's gateway, local and in tests).
///
/// Keys and defaults: `ALIPAY_SIM_HOST` = 127.0.0.1, `ALIPAY_SIM_PORT` = 18095,
/// `ALIPAY_APP_ID` = 9021000000000001, `ALIPAY_SIM_SELLER_ID` = 2088721000000000,
/// `ALIPAY_MERCHANT_PUBLIC_KEY[_FILE]` = `$GMALL_KEYS/merchant_public.pem`,
/// `ALIPAY_SIM_PRIVATE_KEY[_FILE]` (secret) = `$GMALL_KEYS/alipay_private.pem`,
/// `ALIPAY_SIM_RETRY_SCALE` = 0.01 (Alipay's retry schedule 4m, 10m, 10m, 1h, 2h, 6h, 15h times this).
public struct SimulatorConfig: Sendable {
    public var host: String
    public var port: Int
    public var appID: String
    public var sellerID: String
    public var merchantPublicKey: String
    /// Secret.
    public var alipayPrivateKey: String
    public var retryScale: Double

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        let env = ProcessEnvironment(values: environment)
        let keys = env["GMALL_KEYS"] ?? ServiceConfig.repositoryRoot + "/.cluster/keys"
        host = env["ALIPAY_SIM_HOST"] ?? "127.0.0.1"
        port = env.int("ALIPAY_SIM_PORT") ?? 18095
        appID = env["ALIPAY_APP_ID"] ?? "9021000000000001"
        sellerID = env["ALIPAY_SIM_SELLER_ID"] ?? "2088721000000000"
        merchantPublicKey = try env.secretOrFile("ALIPAY_MERCHANT_PUBLIC_KEY", default: keys + "/merchant_public.pem")
        alipayPrivateKey = try env.secretOrFile("ALIPAY_SIM_PRIVATE_KEY", default: keys + "/alipay_private.pem")
        retryScale = env["ALIPAY_SIM_RETRY_SCALE"].flatMap(Double.init) ?? 0.01
        if env["ALIPAY_SIM_RETRY_SCALE"] != nil, env["ALIPAY_SIM_RETRY_SCALE"].flatMap(Double.init) == nil {
            env.refuse("ALIPAY_SIM_RETRY_SCALE", "is not a number")
        }
        try env.check()
    }
}
