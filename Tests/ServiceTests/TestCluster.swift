import AMQP
import AlipaySimulator
import AsyncHTTPClient
import Contracts
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import OrderService
import PaymentService
import Postgres
import ServiceKit
import ServiceLifecycle
import SeckillService
import Signing
@_exported import TestSupport
import WareService

/// The fixture key pairs (test-only) and what each plays.
enum TestKeys {
    static func text(_ name: String) -> String { try! fixtureText("alipay/" + name) }
    static let merchantPrivate = text("merchant_private_key.txt")
    static let merchantPublic = text("merchant_public_key.txt")
    static let alipayPrivate = text("alipay_private_key.txt")
    static let alipayPublic = text("alipay_public_key.txt")
    /// The buyers' JWTs are signed with the Alipay test key here (any pair would do).
    static let jwtSigner = JWTSigner(privateKey: try! RSAPrivateKey(text: alipayPrivate))
    static let alipaySigner = AlipayMessageSigner(
        alipayKey: try! RSAPrivateKey(text: alipayPrivate), appID: TestCluster.appID, sellerID: "2088721000000000")
}

/// oms, payment and the Alipay simulator, started once per test process on their own ports,
/// against the real PostgreSQL, Redis and RabbitMQ that `deploy/local/test` runs.
actor TestCluster {
    static let shared = TestCluster()
    static let appID = "9021000000000001"
    static let omsPort = 28091, paymentPort = 28092, wmsPort = 28093, simulatorPort = 28095
    static var oms: String { "http://127.0.0.1:\(omsPort)" }
    static var wms: String { "http://127.0.0.1:\(wmsPort)" }
    static let seckillPort = 28094
    static var seckill: String { "http://127.0.0.1:\(seckillPort)" }
    static let adminToken = "test-admin-token"
    static var payment: String { "http://127.0.0.1:\(paymentPort)" }
    static var simulator: String { "http://127.0.0.1:\(simulatorPort)" }
    /// Each service's internal listener: its public port + 1000.
    static func `internal`(_ publicPort: Int) -> String { "http://127.0.0.1:\(publicPort + 1000)" }
    static var omsInternal: String { `internal`(omsPort) }
    static var wmsInternal: String { `internal`(wmsPort) }
    static var paymentInternal: String { `internal`(paymentPort) }
    static var seckillInternal: String { `internal`(seckillPort) }
    /// The gateway in front of the test services (`deploy/local/servers test-gateway`: the same
    /// template as every deployment).
    static let gateway = "http://127.0.0.1:28888"
    static let serviceKey = "test-service-key-0123456789abcdef0123456789abcdef"
    /// A service token from `caller` to `callee`, as the services mint them.
    static func serviceToken(_ caller: String, to callee: String) -> String {
        ServiceToken.mint(caller: caller, callee: callee, key: Array(serviceKey.utf8))
    }

    private var starting: Task<Void, any Error>?
    private var seckill: (group: ServiceGroup, task: Task<Void, any Error>)?
    let env: [String: String]

    init() {
        var env = ProcessInfo.processInfo.environment
        env["GMALL_LOG_LEVEL"] = ProcessEnvironment()["TEST_LOG_LEVEL"] ?? "warning"
        env["ALIPAY_APP_ID"] = Self.appID
        env["ALIPAY_GATEWAY_URL"] = Self.simulator + "/alipay-sim/gateway.do"
        env["ALIPAY_NOTIFY_URL"] = Self.payment + "/pay/success"
        env["ALIPAY_RETURN_URL"] = Self.payment + "/pay/ok"
        env["ALIPAY_MERCHANT_PRIVATE_KEY"] = TestKeys.merchantPrivate
        env["ALIPAY_PUBLIC_KEY"] = TestKeys.alipayPublic
        env["ALIPAY_MERCHANT_PUBLIC_KEY"] = TestKeys.merchantPublic
        env["ALIPAY_SIM_PRIVATE_KEY"] = TestKeys.alipayPrivate
        env["ALIPAY_SIM_RETRY_SCALE"] = "0.001"
        env["ALIPAY_SIM_PORT"] = String(Self.simulatorPort)
        env["GMALL_JWT_PUBLIC_KEY"] = TestKeys.alipayPublic
        env["GMALL_OMS_URL"] = Self.omsInternal
        env["GMALL_SERVICE_KEY"] = Self.serviceKey
        env["PAYMENT_QUERY_INTERVAL_SECONDS"] = "1"
        env["PAYMENT_QUERY_MIN_AGE_SECONDS"] = "2"
        env["PAYMENT_REFUND_RETRY_MS"] = "200"
        env["GMALL_WMS_URL"] = Self.wmsInternal
        env["GMALL_ADMIN_TOKEN"] = Self.adminToken
        env["SECKILL_PAY_WAIT_MS"] = "1000"
        env["GMALL_AMQP_RETRY_DELAYS_MS"] = "300,300,300,300,300,300"
        env["SECKILL_KEEPER_INTERVAL_MS"] = "200"
        env["SECKILL_RECONCILE_INTERVAL_MS"] = "300"
        self.env = env
    }

    /// Starts the services once; every caller waits until they answer.
    func start() async throws {
        if starting == nil { starting = Task { try await self.launch() } }
        try await starting!.value
    }

    /// Tracing is on in the test cluster: every service's spans go to the in-process collector
    /// (`TraceCollector`, OTLP/HTTP with JSON), exported every 100 ms.
    static let tracing: [String: String] = [
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:\(TraceCollector.port)", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json",
        "OTEL_BSP_SCHEDULE_DELAY": "100", "OTEL_SERVICE_NAME": "gmall-test-cluster",
    ]

    private func launch() async throws {
        // Before the builds: their routers trace only when tracing is on.
        let tracing = try ShopTracing.bootstrap(
            TracingConfig(env: ProcessEnvironment(values: Self.tracing), service: "test-cluster"), logger: Logger(label: "test.tracing"))
        var omsEnv = env
        omsEnv["GMALL_HTTP_PORT"] = String(Self.omsPort)
        var paymentEnv = env
        paymentEnv["GMALL_HTTP_PORT"] = String(Self.paymentPort)
        let oms = try await OrderService.buildApplication(try OrderServiceConfig(environment: omsEnv))
        let payment = try await PaymentService.buildApplication(try PaymentServiceConfig(environment: paymentEnv))
        var wmsEnv = env
        wmsEnv["GMALL_HTTP_PORT"] = String(Self.wmsPort)
        let wms = try await WareService.buildApplication(try WareServiceConfig(environment: wmsEnv))
        let simulator = try buildSimulator(SimulatorConfig(environment: env))
        let group = ServiceGroup(configuration: .init(
            services: [TraceCollector.shared.application()] + (tracing.map { [$0] } ?? []) + [wms, oms, payment, simulator],
            logger: Logger(label: "test.cluster")))
        Task.detached { try await group.run() }
        try await startSeckill()
        try localServers("test-gateway")
        for url in [Self.wms + "/health", Self.oms + "/health", Self.payment + "/health", Self.simulator + "/health", Self.gateway + "/payment/health"] {
            var up = false
            for _ in 0..<100 where !up {
                up = (try? await HTTP.get(url).status) == .ok
                if !up { try await Task.sleep(nanoseconds: 100_000_000) }
            }
            guard up else { throw ClusterError("\(url) never became healthy") }
        }
    }
}

extension TestCluster {
    /// Starts the seckill service in a group of its own, so a test can restart it.
    func startSeckill() async throws {
        var seckillEnv = env
        seckillEnv["GMALL_HTTP_PORT"] = String(Self.seckillPort)
        let app = try await SeckillService.buildApplication(try SeckillServiceConfig(environment: seckillEnv))
        let group = ServiceGroup(configuration: .init(services: [app], logger: Logger(label: "test.seckill")))
        seckill = (group, Task.detached { try await group.run() })
        var up = false
        for _ in 0..<100 where !up {
            up = (try? await HTTP.get(Self.seckill + "/health").status) == .ok
            if !up { try await Task.sleep(nanoseconds: 50_000_000) }
        }
        guard up else { throw ClusterError("seckill never became healthy") }
    }

    /// Stops seckill gracefully (in-flight requests finish) and starts a new instance.
    func restartSeckill() async throws {
        if let seckill {
            await seckill.group.triggerGracefulShutdown()
            _ = try? await seckill.task.value
        }
        try await startSeckill()
    }
}

struct ClusterError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// A small HTTP client for the tests (redirects are not followed: tests look at them).
enum HTTP {
    static let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))

    struct Reply {
        let status: HTTPResponseStatus
        let headers: [(String, String)]
        let body: String
        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    }

    static func get(_ url: String, headers: [(String, String)] = []) async throws -> Reply {
        try await send(url, method: .GET, headers: headers, body: nil)
    }

    static func post(_ url: String, form: String, contentType: String = "application/x-www-form-urlencoded; charset=utf-8") async throws -> Reply {
        try await send(url, method: .POST, headers: [("Content-Type", contentType)], body: form)
    }

    static func send(_ url: String, method: HTTPMethod, headers: [(String, String)], body: String?) async throws -> Reply {
        try await send(url, method: method, headers: headers, bytes: body.map { Array($0.utf8) })
    }

    /// The body as raw bytes (invalid UTF-8 included).
    static func send(_ url: String, method: HTTPMethod, headers: [(String, String)], bytes body: [UInt8]?) async throws -> Reply {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (k, v) in headers { request.headers.add(name: k, value: v) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await client.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 4 << 20)
        return Reply(status: response.status, headers: response.headers.map { ($0.name, $0.value) }, body: String(buffer: bytes))
    }
}

/// Direct access to the service databases, to arrange orders and to check what was written.
enum Databases {
    static let base = ProcessEnvironment()["GMALL_PG_BASE_URL"] ?? "postgresql://postgres@127.0.0.1:55432"
    static let payment = PostgresPool(url: base + "/guli_payment", maxConnections: 4)
    static let oms = PostgresPool(url: base + "/guli_oms", maxConnections: 4)
    static let wms = PostgresPool(url: base + "/guli_wms", maxConnections: 4)
    static let ums = PostgresPool(url: base + "/guli_ums", maxConnections: 4)

    /// A fresh unpaid order for `member` with one item at `price` × `quantity`.
    static func newOrder(
        member: Int64 = 1001, price: String = "1999.90", quantity: Int = 1, sku: Int64 = 1, integration: Int64 = 10, growth: Int64 = 10,
        payDeadline: Date? = nil
    ) async throws -> String {
        let orderSn = "T" + String(Int(Date().timeIntervalSince1970 * 1000)) + String(Int.random(in: 100_000...999_999))
        let unit = Decimal(string: price)!
        let total = unit * Decimal(quantity)
        try await oms.withTransaction { c in
            let id: Int64 = try await c.query("""
                INSERT INTO oms_order (order_sn, member_id, status, total_amount, pay_amount, integration, growth, pay_deadline)
                VALUES (\(orderSn), \(member), \(OrderStatus.unpaid.rawValue), \(total), \(total), \(integration), \(growth), \(payDeadline))
                RETURNING id
                """).rows[0].decode("id")
            try await c.query("""
                INSERT INTO oms_order_item (order_id, order_sn, sku_id, sku_name, sku_price, sku_quantity)
                VALUES (\(id), \(orderSn), \(sku), '测试 商品 <b>&', \(unit), \(quantity))
                """)
        }
        return orderSn
    }

    static func count(_ sql: PostgresQuery, in pool: PostgresPool = payment) async throws -> Int {
        try await pool.query(sql).rows[0].decode(at: 0)
    }
}

/// A private queue bound to `order.pay`: counts the messages for one order that reached the broker.
/// Each call opens its own connection and closes it before returning, whichever way it returns
/// (`defer` cannot await, and a connection dropped unclosed asserts, crashing the test process):
/// the tap holds no connection between calls, so a test that fails before `close()` leaks none.
struct OrderPayTap {
    let queue = "TEST-TAP-\(UUID().uuidString.prefix(8))"

    func open() async throws {
        let c = try await AMQPConnection.connect(AMQPEndpoint(port: ProcessEnvironment().int("GMALL_AMQP_PORT") ?? 55672))
        do {
            try await c.declare(AMQPTopology(
                exchanges: [.init(name: Messaging.exchange, type: "topic")],
                queues: [.init(name: queue, bindings: [.init(exchange: Messaging.exchange, routingKey: Messaging.orderPay.routingKey)])]))
        } catch {
            await c.close()
            throw error
        }
        await c.close()
    }

    /// Messages for `orderSn` seen so far (drains the tap).
    func drain(orderSn: String) async throws -> [AMQPDelivery] {
        let c = try await AMQPConnection.connect(AMQPEndpoint(port: ProcessEnvironment().int("GMALL_AMQP_PORT") ?? 55672))
        var found: [AMQPDelivery] = []
        do {
            while let d = try await c.get(queue: queue) {
                try await c.ack(d.deliveryTag)
                if (try? d.decode(OrderPaid.self))?.orderSn == orderSn { found.append(d) }
            }
        } catch {
            await c.close()
            throw error
        }
        await c.close()
        return found
    }

    func close() async {
        guard let c = try? await AMQPConnection.connect(AMQPEndpoint(port: ProcessEnvironment().int("GMALL_AMQP_PORT") ?? 55672)) else { return }
        try? await c.delete(queue: queue)
        await c.close()
    }
}
