import AsyncHTTPClient
import Contracts
import Foundation
import Hummingbird
import Logging
import ServiceKit
import Signing

/// Builds the payment service: migrations applied, pools, publisher, outbox relay, active query
/// job, refund job, the `trade.close` and `payment.refund` consumers and the routes of Flow 1
/// (pay.html, alipay.html, the notify and the return).
public func buildApplication(_ config: PaymentServiceConfig) async throws -> ShopApplication {
    let logger = makeLogger(label: "gmall.payment", level: config.shared.logLevel, format: config.shared.logFormat)
    let infrastructure = Infrastructure(config: config.shared, usesRedis: false, logger: logger)
    try await infrastructure.migrateOrClose(database: config.database)
    let http = HTTPClient(eventLoopGroupProvider: .singleton)
    let alipayHTTP = ShopTracing.untracedHTTPClient()
    let gateway = AlipayGateway(
        appID: config.appID, gatewayURL: config.gatewayURL, serverGatewayURL: config.serverGatewayURL, notifyURL: config.notifyURL, returnURL: config.returnURL,
        merchantKey: try RSAPrivateKey(text: config.merchantPrivateKey),
        alipayPublicKey: try RSAPublicKey(text: config.alipayPublicKey), http: alipayHTTP)
    let store = PostgresPaymentStore(postgres: infrastructure.postgres)
    let rules = SettlementRules(appID: config.appID, sellerID: config.sellerID)
    let relay = infrastructure.outboxRelay()
    let routes = PaymentRoutes(
        store: store, rules: rules, gateway: gateway, orders: OrderClient(baseURL: config.omsURL, http: http, credential: ServiceCredential(caller: "payment", callee: "oms", key: config.shared.serviceKey)),
        verifier: AlipayNotificationVerifier(alipayPublicKey: gateway.alipayPublicKey),
        pages: try PaymentPages(), relay: relay, timeoutMinutes: config.timeoutMinutes, minPaySeconds: config.minPaySeconds)
    let query = ActiveQueryJob(
        store: store, rules: rules, gateway: gateway, interval: config.queryInterval, minAge: config.queryMinAge, relay: relay, logger: logger)
    let refunds = RefundJob(store: PostgresRefundStore(postgres: infrastructure.postgres), gateway: gateway, base: config.refundRetry, logger: logger)
    let closing = TradeClosing(store: store, gateway: gateway, query: query, logger: logger)
    let consumers = [
        infrastructure.consumer(for: Messaging.tradeClose, prefetch: 8, parallelism: 4, handler: closing.tradeClose),
        infrastructure.consumer(for: Messaging.paymentRefund, handler: refunds.requested),
    ]
    let publicRouter = Router.shop(.public)
    routes.register(public: publicRouter, buyers: BuyerAuthenticator(verifier: JWTVerifier(publicKey: try RSAPublicKey(text: config.jwtPublicKey))))
    // Internal: health details, metrics and the dead letters of payment's two queues.
    let internalRouter = Router.shop(.internal)
    internalRouter.addDeadLetterAdmin(service: "payment", infrastructure: infrastructure, token: config.shared.adminToken)
    return makeShopApplication(
        name: "payment", infrastructure: infrastructure, publicRouter: publicRouter, internalRouter: internalRouter,
        services: [HTTPClientService(client: http), HTTPClientService(client: alipayHTTP), relay, query, refunds] + consumers, logger: logger)
}

/// `GMALL_MIGRATE_ONLY=true`: the service's migrations, nothing else (a migrations Job).
public func migrateOnly(environment: [String: String] = ProcessInfo.processInfo.environment) async throws {
    try await MigrationJob.run(service: "payment", database: "guli_payment", environment: environment)
}
