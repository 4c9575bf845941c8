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
    }
}

/// A trade as the simulator knows it.
public struct SimulatedTrade: Sendable, Codable {
    public var outTradeNo: String
    public var totalAmount: String
    public var subject: String
    public var notifyURL: String
    public var returnURL: String
    public var passbackParams: String?
    public var tradeNo: String
    public var status: String
    public var createdAt: Date
    public var paidAt: Date?
    public var notifyAttempts: Int
    public var notifyDelivered: Bool
}

/// The simulator's in-memory trade book (a simulator has no database of its own).
actor TradeBook {
    private var trades: [String: SimulatedTrade] = [:]
    private var sequence = 0

    func open(outTradeNo: String, totalAmount: String, subject: String, notifyURL: String, returnURL: String, passback: String?) -> SimulatedTrade {
        if let existing = trades[outTradeNo] { return existing }
        sequence += 1
        let trade = SimulatedTrade(
            outTradeNo: outTradeNo, totalAmount: totalAmount, subject: subject, notifyURL: notifyURL, returnURL: returnURL,
            passbackParams: passback, tradeNo: String(format: "2026%010d%014d", Int(Date().timeIntervalSince1970) % 10_000_000_000, sequence),
            status: "WAIT_BUYER_PAY", createdAt: Date(), paidAt: nil, notifyAttempts: 0, notifyDelivered: false)
        trades[outTradeNo] = trade
        return trade
    }

    func pay(_ outTradeNo: String) -> SimulatedTrade? {
        guard var trade = trades[outTradeNo] else { return nil }
        if trade.status == "WAIT_BUYER_PAY" {
            trade.status = "TRADE_SUCCESS"
            trade.paidAt = Date()
            trades[outTradeNo] = trade
        }
        return trade
    }

    func trade(_ outTradeNo: String) -> SimulatedTrade? { trades[outTradeNo] }

    func attempted(_ outTradeNo: String, delivered: Bool) {
        trades[outTradeNo]?.notifyAttempts += 1
        if delivered { trades[outTradeNo]?.notifyDelivered = true }
    }
}

/// Builds Alipay-shaped, Alipay-signed notify and return parameters.
public struct AlipayMessageSigner: Sendable {
    public let alipayKey: RSAPrivateKey
    public let appID: String
    public let sellerID: String

    public init(alipayKey: RSAPrivateKey, appID: String, sellerID: String) {
        self.alipayKey = alipayKey
        self.appID = appID
        self.sellerID = sellerID
    }

    /// The notify's parameters, signed (`sign` over all but `sign` and `sign_type`).
    public func notify(outTradeNo: String, tradeNo: String, totalAmount: String, subject: String, tradeStatus: String, passback: String?, now: Date = Date(), notifyID: String = UUID().uuidString.replacingOccurrences(of: "-", with: "")) throws -> [(String, String)] {
        var p: [(String, String)] = [
            ("gmt_create", AlipayTime.format(now.addingTimeInterval(-8))), ("charset", "utf-8"),
            ("gmt_payment", AlipayTime.format(now.addingTimeInterval(-1))), ("notify_time", AlipayTime.format(now)),
            ("subject", subject), ("buyer_id", "2088722003900000"), ("invoice_amount", totalAmount), ("version", "1.0"),
            ("notify_id", notifyID),
            ("fund_bill_list", "[{&quot;amount&quot;:&quot;\(totalAmount)&quot;,&quot;fundChannel&quot;:&quot;ALIPAYACCOUNT&quot;}]"),
            ("notify_type", "trade_status_sync"), ("out_trade_no", outTradeNo), ("total_amount", totalAmount),
            ("trade_status", tradeStatus), ("trade_no", tradeNo), ("auth_app_id", appID), ("receipt_amount", totalAmount),
            ("point_amount", "0.00"), ("buyer_pay_amount", totalAmount), ("app_id", appID), ("sign_type", "RSA2"),
            ("seller_id", sellerID),
        ]
        if let passback { p.append(("passback_params", passback)) }
        p.append(("sign", try alipayKey.signRSA2(AlipaySignContent.notification(p))))
        return p
    }

    /// The synchronous return's query parameters, signed.
    public func returnParameters(outTradeNo: String, tradeNo: String, totalAmount: String, now: Date = Date()) throws -> [(String, String)] {
        var p: [(String, String)] = [
            ("charset", "utf-8"), ("out_trade_no", outTradeNo), ("method", "alipay.trade.page.pay.return"),
            ("total_amount", totalAmount), ("trade_no", tradeNo), ("auth_app_id", appID), ("version", "1.0"),
            ("app_id", appID), ("sign_type", "RSA2"), ("seller_id", sellerID), ("timestamp", AlipayTime.format(now)),
        ]
        p.append(("sign", try alipayKey.signRSA2(AlipaySignContent.notification(p))))
        return p
    }

    /// A gateway response body `{"<key>":{...},"sign":"..."}` signed over the object's exact text.
    public func response(key: String, members: [(String, String)]) throws -> String {
        let object = jsonObjectText(members)
        return "{\(jsonStringLiteral(key)):\(object),\"sign\":\(jsonStringLiteral(try alipayKey.signRSA2(object)))}"
    }
}

/// Delivers notifies in the background with Alipay's retry schedule (scaled), until one is
/// answered with the seven bytes `success`. A `Service`.
final class NotifyDispatcher: Service, Sendable {
    struct Job: Sendable {
        let outTradeNo: String
        let url: String
        let body: String
    }

    /// Alipay: 8 attempts over about 25 hours.
    static let schedule: [Double] = [0, 240, 600, 600, 3600, 7200, 21600, 54000]

    let http: HTTPClient
    let book: TradeBook
    let scale: Double
    let logger: Logger
    let jobs: AsyncStream<Job>
    let submit: AsyncStream<Job>.Continuation

    init(http: HTTPClient, book: TradeBook, scale: Double, logger: Logger) {
        self.http = http
        self.book = book
        self.scale = scale
        self.logger = logger
        (jobs, submit) = AsyncStream.makeStream(of: Job.self)
    }

    func enqueue(_ job: Job) { submit.yield(job) }

    func run() async throws {
        await withDiscardingTaskGroup { group in
            for await job in jobs.cancelOnGracefulShutdown() {
                group.addTask { await self.deliver(job) }
            }
        }
    }

    private func deliver(_ job: Job) async {
        for delay in Self.schedule {
            if delay > 0 { try? await Task.sleep(for: .milliseconds(Int(delay * scale * 1000))) }
            var request = HTTPClientRequest(url: job.url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded; charset=utf-8")
            request.body = .bytes(ByteBuffer(string: job.body))
            var answer = ""
            do {
                let response = try await http.execute(request, timeout: .seconds(15))
                answer = String(buffer: try await response.body.collect(upTo: 1024))
            } catch {
                answer = "error: \(error)"
            }
            let delivered = answer == "success"
            await book.attempted(job.outTradeNo, delivered: delivered)
            logger.info("simulator.notify.attempt", metadata: ["alipay.out_trade_no": "\(job.outTradeNo)", "answer": "\(answer.prefix(80))"])
            if delivered { return }
        }
    }
}
