import AMQP
import Alipay
import AlipaySimulator
import AsyncHTTPClient
import Contracts
import Foundation
import NIOCore
import Postgres
import ServiceKit
import Signing

/// Payment notify benchmark (not a test): creates N unpaid orders with their payment rows and
/// their stock locks in wms, signs N Alipay TRADE_SUCCESS notifies, then (the timed part) fires
/// them at the payment service with C in flight and times each from the request to its
/// `order.pay` arriving (publisher-confirmed) on a tap queue. It waits until every order's whole
/// chain is done (paid, stock sold in wms, points credited once) and checks each count.
///
/// Prints `COST-START` when the timed part begins and `UNITS <n> notify` at the end, for
/// `deploy/bench/cost run -- .build/release/notify-bench …` (CPU per notify of every process).
///
/// With R, the notifies are paced at R a second (open loop, still at most C in flight): the
/// latencies at a rate the whole chain keeps up with, where an unpaced run measures the backlog
/// that builds when notifies are answered faster than the chain behind them settles them.
///
///     .build/release/notify-bench [N=2000] [C=32] [R]     (the cluster must be up)
@main
struct NotifyBench {
    static func main() async throws {
        let args = CommandLine.arguments
        let n = args.count > 1 ? Int(args[1]) ?? 2000 : 2000
        let concurrency = args.count > 2 ? Int(args[2]) ?? 32 : 32
        let rate = args.count > 3 ? Double(args[3]) : nil
        let env = ProcessEnvironment()
        let keys = env["GMALL_KEYS"] ?? ServiceConfig.repositoryRoot + "/.cluster/keys"
        let paymentURL = env["PAYMENT_URL"] ?? "http://127.0.0.1:18092"
        let base = env["GMALL_PG_BASE_URL"] ?? "postgresql://postgres@127.0.0.1:55432"
        let amqp = AMQPEndpoint(port: env.int("GMALL_AMQP_PORT") ?? 55672)
        let signer = AlipayMessageSigner(
            alipayKey: try RSAPrivateKey(text: try String(contentsOfFile: keys + "/alipay_private.pem", encoding: .utf8)),
            appID: env["ALIPAY_APP_ID"] ?? "9021000000000001", sellerID: "2088721000000000")

        // 1. orders and payment rows
        let prefix = "B\(Int(Date().timeIntervalSince1970))"
        let oms = PostgresPool(url: base + "/guli_oms", maxConnections: 2)
        let payment = PostgresPool(url: base + "/guli_payment", maxConnections: 2)
        try await oms.query("""
            INSERT INTO oms_order (order_sn, member_id, status, total_amount, pay_amount, integration, growth)
            SELECT \(prefix) || lpad(i::text, 7, '0'), 1001, 0, 99.90, 99.90, 99, 99 FROM generate_series(1, \(n)) i
            """)
        try await payment.query("""
            INSERT INTO payment_info (out_trade_no, order_id, user_id, subject, total_amount)
            SELECT \(prefix) || lpad(i::text, 7, '0'), i, 1001, 'bench', 99.90 FROM generate_series(1, \(n)) i
            """)
        // Each order's stock lock, as checkout leaves it: the notify's stock.minus sells it.
        let wms = PostgresPool(url: base + "/guli_wms", maxConnections: 2)
        let ums = PostgresPool(url: base + "/guli_ums", maxConnections: 2)
        let sku = Int64(Date().timeIntervalSince1970 * 1000) % 1_000_000_000 + 5_000_000_000
        try await wms.query("INSERT INTO wms_ware_sku (sku_id, ware_id, sku_name, stock, stock_locked) VALUES (\(sku), 1, 'bench', \(n), \(n))")
        try await wms.query("""
            INSERT INTO wms_stock_lock (order_sn, sku_id, ware_id, count)
            SELECT \(prefix) || lpad(i::text, 7, '0'), \(sku), 1, 1 FROM generate_series(1, \(n)) i
            """)
        try await ums.query("INSERT INTO ums_member (id, username) VALUES (1001, 'bench') ON CONFLICT (id) DO NOTHING")
        let orderSns = (1...n).map { prefix + String(repeating: "0", count: 7 - String($0).count) + String($0) }
        let bodies = try orderSns.map {
            FormBody.encode(try signer.notify(outTradeNo: $0, tradeNo: "2026" + $0.filter(\.isNumber), totalAmount: "99.90", subject: "bench", tradeStatus: "TRADE_SUCCESS", passback: nil))
        }

        // 2. a tap on order.pay
        let tapName = "BENCH-TAP-\(prefix)"
        let tap = try await AMQPConnection.connect(amqp)
        do {
            try await tap.declare(AMQPTopology(
                exchanges: [.init(name: Messaging.exchange, type: "topic")],
                queues: [.init(name: tapName, bindings: [.init(exchange: Messaging.exchange, routingKey: Messaging.orderPay.routingKey)])]))
            try await tap.consume(queue: tapName, prefetch: 500)
        } catch {
            await tap.close()
            throw error
        }
        let clock = ContinuousClock()
        let started = Box<[String: ContinuousClock.Instant]>([:])
        let answered = Box<[String: ContinuousClock.Instant]>([:])
        let arrived = Box<[String: ContinuousClock.Instant]>([:])
        let wanted = Set(orderSns)
        let tapTask = Task {
            while arrived.value.count < n && !Task.isCancelled {
                guard let d = try await tap.nextDelivery(timeoutMilliseconds: 200) else { continue }
                try await tap.ack(d.deliveryTag)
                if let sn = (try? d.decode(OrderPaid.self))?.orderSn, wanted.contains(sn) { arrived.mutate { $0[sn] = clock.now } }
            }
        }

        // 3. fire
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: concurrency)))
        print("COST-START")
        fflush(nil)  // now, not at exit: `deploy/bench/cost` starts counting when it reads this line
        let begin = clock.now
        var responseLatencies: [Duration] = []
        var failures = 0
        try await withThrowingTaskGroup(of: (Duration, Bool).self) { group in
            var next = 0
            func submit() {
                let i = next; next += 1
                group.addTask {
                    if let rate { try await Task.sleep(until: begin + .seconds(Double(i) / rate), clock: clock) }
                    var request = HTTPClientRequest(url: paymentURL + "/pay/success")
                    request.method = .POST
                    request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded; charset=utf-8")
                    request.body = .bytes(ByteBuffer(string: bodies[i]))
                    let t0 = clock.now
                    started.mutate { $0[orderSns[i]] = t0 }
                    let response = try await http.execute(request, timeout: .seconds(30))
                    let text = String(buffer: try await response.body.collect(upTo: 64))
                    let t1 = clock.now
                    answered.mutate { $0[orderSns[i]] = t1 }
                    return (t1 - t0, text == "success")
                }
            }
            for _ in 0..<min(concurrency, n) { submit() }
            while let (latency, ok) = try await group.next() {
                responseLatencies.append(latency)
                if !ok { failures += 1 }
                if next < n { submit() }
            }
        }
        let fired = clock.now - begin
        let deadline = clock.now + .seconds(60)
        while arrived.value.count < n && clock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        let settled = clock.now - begin
        tapTask.cancel()
        _ = try? await tapTask.value
        try? await tap.delete(queue: tapName)
        // Closed once the tap task is done with it: a connection dropped unclosed asserts in debug builds.
        await tap.close()
        try await http.shutdown()

        let endToEnd = orderSns.compactMap { sn in arrived.value[sn].flatMap { a in started.value[sn].map { a - $0 } } }.sorted()
        // From payment's answer (its commit) to order.pay at the broker: the outbox relay's part.
        let relayed = orderSns.compactMap { sn in arrived.value[sn].flatMap { a in answered.value[sn].map { a - $0 } } }.sorted()
        let responses = responseLatencies.sorted()
        func ms(_ d: Duration) -> String { String(format: "%.2f", Double(d.components.attoseconds) / 1e15 + Double(d.components.seconds) * 1000) }
        func pct(_ a: [Duration], _ p: Double) -> String { a.isEmpty ? "-" : ms(a[min(a.count - 1, Int(Double(a.count) * p))]) }
        let seconds = Double(fired.components.seconds) + Double(fired.components.attoseconds) / 1e18
        let allSeconds = Double(settled.components.seconds) + Double(settled.components.attoseconds) / 1e18
        print("RESULT notifies=\(n) concurrency=\(concurrency) rate=\(rate.map { String(format: "%.0f/s", $0) } ?? "unpaced") failures=\(failures) order.pay_seen=\(endToEnd.count)")
        print("RESULT notifies_per_s=\(String(format: "%.0f", Double(n) / seconds)) settled_per_s=\(String(format: "%.0f", Double(endToEnd.count) / allSeconds))")
        print("RESULT http_p50_ms=\(pct(responses, 0.5)) http_p99_ms=\(pct(responses, 0.99)) notify_to_order_pay_p50_ms=\(pct(endToEnd, 0.5)) p99_ms=\(pct(endToEnd, 0.99))")
        print("RESULT answered_to_order_pay_p50_ms=\(pct(relayed, 0.5)) p99_ms=\(pct(relayed, 0.99)) (from payment's success to order.pay at the broker)")
        let paid = try await payment.query("SELECT count(*) AS n FROM payment_info WHERE out_trade_no LIKE \(prefix + "%") AND payment_status = 1").rows[0].decode("n", as: Int.self)
        let outbox = try await payment.query("SELECT count(*) AS n FROM outbox WHERE message_id LIKE \("order.pay:" + prefix + "%")").rows[0].decode("n", as: Int.self)
        // The relay's latency as the server saw it: from the notify's commit (the row's
        // created_at, its transaction's time) to the broker's confirm (sent_at), without the
        // bench's own tap, which shares the CPU with 64 requests in flight.
        let relay = try await payment.query("""
            SELECT round((percentile_cont(0.5) WITHIN GROUP (ORDER BY ms))::numeric, 2)::text AS p50,
                   round((percentile_cont(0.99) WITHIN GROUP (ORDER BY ms))::numeric, 2)::text AS p99
            FROM (SELECT EXTRACT(EPOCH FROM sent_at - created_at) * 1000 AS ms FROM outbox
                  WHERE message_id LIKE \("order.pay:" + prefix + "%") AND sent_at IS NOT NULL) AS t
            """).rows[0]
        print("RESULT committed_to_confirmed_p50_ms=\(try relay.decode("p50", as: String.self)) p99_ms=\(try relay.decode("p99", as: String.self)) (the outbox relay: notify's commit to order.pay confirmed by the broker)")
        // The rest of each chain: stock sold (stock.minus) and points credited (bound.plus), once.
        // Polled by order-number range (the primary keys), every 250 ms: the polling is inside the
        // measured window, so it must not scan whole tables.
        let (low, high) = (prefix + "0000000", prefix + "9999999")
        var sold = 0, credited = 0, ordersPaid = 0
        let chainDeadline = clock.now + .seconds(120)
        repeat {
            if sold < n || credited < n || ordersPaid < n { try await Task.sleep(for: .milliseconds(250)) }
            ordersPaid = try await oms.query("SELECT count(*) AS n FROM oms_order WHERE order_sn BETWEEN \(low) AND \(high) AND status = 1").rows[0].decode("n", as: Int.self)
            sold = try await wms.query("SELECT count(*) AS n FROM wms_stock_lock WHERE order_sn BETWEEN \(low) AND \(high) AND status = 1").rows[0].decode("n", as: Int.self)
            credited = try await ums.query("SELECT count(*) AS n FROM ums_points_history WHERE order_sn BETWEEN \(low) AND \(high)").rows[0].decode("n", as: Int.self)
        } while (sold < n || credited < n || ordersPaid < n) && clock.now < chainDeadline
        let chained = clock.now - begin
        let chainSeconds = Double(chained.components.seconds) + Double(chained.components.attoseconds) / 1e18
        let stockRow = try await wms.query("SELECT stock, stock_locked, sales FROM wms_ware_sku WHERE sku_id = \(sku)").rows[0]
        let (stock, locked, sales) = (try stockRow.decode("stock", as: Int.self), try stockRow.decode("stock_locked", as: Int.self), try stockRow.decode("sales", as: Int.self))
        let points = try await ums.query("SELECT coalesce(sum(integration), 0)::bigint AS n FROM ums_points_history WHERE order_sn LIKE \(prefix + "%")").rows[0].decode("n", as: Int64.self)
        print("RESULT whole_chain_per_s=\(String(format: "%.0f", Double(n) / chainSeconds)) (notify → paid, stock sold, points credited; all \(n) in \(String(format: "%.1f", chainSeconds)) s)")
        print("CHECK paid=\(paid) outbox=\(outbox) orders_paid=\(ordersPaid) stock_sold=\(sold) points_credited=\(credited) (each must equal \(n))")
        print("CHECK wms stock=\(stock) stock_locked=\(locked) sales=\(sales) (must be 0, 0, \(n)); points=\(points) (must be \(99 * n))")
        print("UNITS \(n) notify")
        // Closed before the check's `exit`: a pool dropped with open connections asserts in debug builds.
        await oms.close()
        await payment.close()
        await wms.close()
        await ums.close()
        guard paid == n, outbox == n, endToEnd.count == n, failures == 0, ordersPaid == n, sold == n, credited == n,
            stock == 0, locked == 0, sales == n, points == Int64(99 * n)
        else { exit(1) }
    }
}

/// A lock-protected box for the benchmark's bookkeeping.
final class Box<T>: @unchecked Sendable {  // guarded by `lock`
    private let lock = NSLock()
    private var stored: T
    init(_ value: T) { stored = value }
    var value: T { lock.lock(); defer { lock.unlock() }; return stored }
    func mutate(_ body: (inout T) -> Void) { lock.lock(); defer { lock.unlock() }; body(&stored) }
}
