import Foundation
import ServiceKit
import Signing

/// Configuration of the payment service.
///
/// Keys (environment) and defaults, besides everything in `ServiceConfig` (HTTP port 18092,
/// database `guli_payment`):
/// - `ALIPAY_APP_ID` = `9021000000000001` (the local simulator's app)
/// - `ALIPAY_GATEWAY_URL` = `http://127.0.0.1:8888/alipay-sim/gateway.do`; the sandbox is
///   `https://openapi-sandbox.dl.alipaydev.com/gateway.do`, production `https://openapi.alipay.com/gateway.do`
/// - `ALIPAY_SERVER_GATEWAY_URL` = `ALIPAY_GATEWAY_URL`: where payment itself calls Alipay (the
///   trade query, close and refund); set it when the browser and the service reach the gateway by different names
///   (docker-compose: the browser uses 127.0.0.1:8888, payment uses the simulator's host name)
/// - `ALIPAY_NOTIFY_URL` = `http://127.0.0.1:8888/pay/success`, `ALIPAY_RETURN_URL` =
///   `http://127.0.0.1:8888/pay/ok` (your tunnel's public URLs in real life)
/// - `ALIPAY_MERCHANT_PRIVATE_KEY` (secret; PEM or bare base64) or `ALIPAY_MERCHANT_PRIVATE_KEY_FILE`
///   = `$GMALL_KEYS/merchant_private.pem`
/// - `ALIPAY_PUBLIC_KEY` or `ALIPAY_PUBLIC_KEY_FILE` = `$GMALL_KEYS/alipay_public.pem`
/// - `ALIPAY_SELLER_ID` (unset: not checked)
/// - `ALIPAY_TIMEOUT_MINUTES` = 30 (the page-pay `time_expire` of an order oms gives no deadline
///   for; every order written since refunds came has one: its close time)
/// - `PAYMENT_MIN_PAY_SECONDS` = 60 (an order closing sooner than this is not sent to Alipay: the
///   cashier page says it is about to close)
/// - `PAYMENT_REFUND_RETRY_MS` = 5000 (the first wait before a refund is asked again; doubling up
///   to 5 minutes while Alipay is unavailable or has not confirmed it)
/// - `PAYMENT_QUERY_INTERVAL_SECONDS` = 60, `PAYMENT_QUERY_MIN_AGE_SECONDS` = 300 (active query of
///   payments unpaid past this age and younger than a day)
/// - `GMALL_OMS_URL` = `http://127.0.0.1:19091` (oms's internal listener)
/// - `GMALL_JWT_PUBLIC_KEY` or `GMALL_JWT_PUBLIC_KEY_FILE` = `$GMALL_KEYS/jwt_public.pem`
public struct PaymentServiceConfig: Sendable {
    public var shared: ServiceConfig
    public let database = "guli_payment"
    public var appID: String
    public var gatewayURL: String
    public var serverGatewayURL: String
    public var notifyURL: String
    public var returnURL: String
    /// Secret.
    public var merchantPrivateKey: String
    public var alipayPublicKey: String
    public var sellerID: String?
    public var timeoutMinutes: Int
    public var minPaySeconds: Int
    public var refundRetry: Duration
    public var queryInterval: Duration
    public var queryMinAge: Duration
    public var omsURL: String
    public var jwtPublicKey: String

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        let env = ProcessEnvironment(values: environment)
        shared = ServiceConfig(env: env, service: "payment", defaultPort: 18092, database: "guli_payment")
        let keys = shared.keysDirectory
        appID = env["ALIPAY_APP_ID"] ?? "9021000000000001"
        gatewayURL = env["ALIPAY_GATEWAY_URL"] ?? "http://127.0.0.1:8888/alipay-sim/gateway.do"
        serverGatewayURL = env["ALIPAY_SERVER_GATEWAY_URL"] ?? gatewayURL
        notifyURL = env["ALIPAY_NOTIFY_URL"] ?? "http://127.0.0.1:8888/pay/success"
        returnURL = env["ALIPAY_RETURN_URL"] ?? "http://127.0.0.1:8888/pay/ok"
        merchantPrivateKey = try env.secretOrFile("ALIPAY_MERCHANT_PRIVATE_KEY", default: keys + "/merchant_private.pem")
        alipayPublicKey = try env.secretOrFile("ALIPAY_PUBLIC_KEY", default: keys + "/alipay_public.pem")
        sellerID = env["ALIPAY_SELLER_ID"]
        timeoutMinutes = env.int("ALIPAY_TIMEOUT_MINUTES") ?? 30
        minPaySeconds = env.int("PAYMENT_MIN_PAY_SECONDS") ?? 60
        refundRetry = .milliseconds(max(10, env.int("PAYMENT_REFUND_RETRY_MS") ?? 5000))
        queryInterval = .seconds(env.int("PAYMENT_QUERY_INTERVAL_SECONDS") ?? 60)
        queryMinAge = .seconds(env.int("PAYMENT_QUERY_MIN_AGE_SECONDS") ?? 300)
        omsURL = env["GMALL_OMS_URL"] ?? "http://127.0.0.1:19091"
        jwtPublicKey = try env.secretOrFile("GMALL_JWT_PUBLIC_KEY", default: keys + "/jwt_public.pem")
        try env.check()
        shared.effective = env.effective
    }
}
