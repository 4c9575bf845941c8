import Alipay
import Contracts
import Foundation
import Testing

/// A Prometheus text page, read into `name{labels}` → value.
struct MetricsPage {
    let values: [String: Double]
    let helps: Set<String>

    static func read() async throws -> MetricsPage {
        // The test cluster's services share one process, so one internal listener shows them all.
        let text = try await HTTP.get(TestCluster.seckillInternal + "/metrics").body
        var values: [String: Double] = [:]
        var helps: Set<String> = []
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# HELP ") {
                helps.insert(String(line.dropFirst(7).prefix { $0 != " " }))
            } else if !line.hasPrefix("#"), let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) {
                values[String(line[..<space])] = value
            }
        }
        return MetricsPage(values: values, helps: helps)
    }

    subscript(_ series: String) -> Double { values[series] ?? 0 }
}

@Suite("Metrics an operator alerts on: Prometheus names with HELP, and each counter moves with the work")
struct MetricsTests {
    init() async throws { try await TestCluster.shared.start() }

    @Test("every metric of docs/OPERATIONS.md is exported with its HELP line, in base units, counters ending in _total")
    func names() async throws {
        let page = try await MetricsPage.read()
        for name in [
            "gmall_flash_sale_attempts_total", "gmall_flash_sale_wins_recorded_total", "gmall_notifies_total", "gmall_refunds_total",
            "gmall_refunds_pending", "gmall_refund_oldest_pending_age_seconds", "gmall_outbox_unsent", "gmall_outbox_oldest_unsent_age_seconds",
            "gmall_amqp_deliveries_total", "gmall_dead_letters", "gmall_dependency_errors_total", "gmall_pool_waiters",
            "gmall_pool_waits_total", "gmall_pool_wait_seconds_total",
        ] {
            #expect(page.helps.contains(name), "\(name) has no HELP line")
        }
        // Labels an alert rule groups by exist from the start (at zero), so a rate never has a hole.
        #expect(page.values.keys.contains(#"gmall_flash_sale_attempts_total{result="sold_out"}"#))
        #expect(page.values.keys.contains(#"gmall_amqp_deliveries_total{queue="ORDER-PAY-QUEUE",outcome="dead_letter"}"#))
        #expect(page.values.keys.contains(#"gmall_dead_letters{queue="ORDER-PAY-QUEUE.dlq"}"#))
    }

    @Test("a flash-sale win, a paid notify and its order.pay each move their counters")
    func countersMove() async throws {
        let before = try await MetricsPage.read()
        let (sku, _) = try await openSession(stock: 1)
        let buyer = Int64.random(in: 100_000_000...900_000_000)
        #expect(try await attempt(sku: sku, buyer: buyer).code == 0)
        #expect(try await attempt(sku: sku, buyer: buyer + 1).code == 1001)
        let orderSn = try await Databases.newOrder(price: "3.00")
        _ = try await pagePayForm(orderSn: orderSn)
        #expect(try await postNotify(FormBody.encode(try notifyPairs(orderSn: orderSn, amount: "3.00"))) == "success")
        #expect(try await postNotify("sign=forged&out_trade_no=\(orderSn)") == "failure")
        let moved = try await eventually(seconds: 10) {
            let after = try await MetricsPage.read()
            let ack = #"gmall_amqp_deliveries_total{queue="ORDER-PAY-QUEUE",outcome="ack"}"#
            return after[ack] > before[ack]
        }
        #expect(moved)
        let after = try await MetricsPage.read()
        for series in [
            #"gmall_flash_sale_attempts_total{result="won"}"#, #"gmall_flash_sale_attempts_total{result="sold_out"}"#,
            "gmall_flash_sale_wins_recorded_total", #"gmall_notifies_total{result="paid"}"#,
            #"gmall_notifies_total{result="refused_unverified"}"#, #"gmall_amqp_deliveries_total{queue="SEC-KILL-QUEUE",outcome="ack"}"#,
        ] {
            #expect(after[series] > before[series], "\(series) did not move: \(before[series]) → \(after[series])")
        }
    }
}
