import AMQP
import Contracts
import Foundation
import ServiceKit
import Testing

/// The retry policy of every consumed queue (`GMALL_AMQP_RETRY_DELAYS_MS`; the test cluster uses
/// 300 ms × 6, so 7 attempts): a failed handler is tried again after a delay, whether or not
/// the broker had redelivered the message, and only the last failure goes to the DLQ.
@Suite("Retries: a delay and a count, independent of the broker's redelivered flag")
struct RetryTests {
    init() async throws { try await TestCluster.shared.start() }

    @Test("an order.pay that arrives before its order is retried after a delay and pays the order once it exists")
    func orderPayBeforeItsOrder() async throws {
        let member = newMember()
        let orderSn = "R" + String(Int64.random(in: 1_000_000_000...9_999_999_999))
        try await publish(OrderPaid(orderSn: orderSn), route: Messaging.orderPay)
        // The order appears a moment later (as when oms's database was restarting).
        try await Task.sleep(for: .milliseconds(800))
        try await Databases.oms.query("""
            INSERT INTO oms_order (order_sn, member_id, status, total_amount, pay_amount, integration, growth)
            VALUES (\(orderSn), \(member), 0, 10, 10, 10, 10)
            """)
        let paid = try await eventually(seconds: 10) { try await orderStatus(orderSn) == OrderStatus.paid.rawValue }
        #expect(paid)
        #expect(try await deadLetters(containing: orderSn, queue: Messaging.orderPay).isEmpty)
    }

    @Test("a message that never succeeds is dead-lettered after the last attempt, with the attempt count and the reason")
    func exhaustedRetries() async throws {
        let orderSn = "NEVER" + String(Int64.random(in: 1_000_000_000...9_999_999_999))
        try await publish(OrderPaid(orderSn: orderSn), route: Messaging.orderPay)
        var letters: [[String: String]] = []
        let dead = try await eventually(seconds: 15) {
            letters = try await deadLetters(containing: orderSn, queue: Messaging.orderPay)
            return !letters.isEmpty
        }
        #expect(dead)
        #expect(letters.count == 1)
        #expect(letters.first?["attempts"] == "7")
        #expect(letters.first?["reason"]?.contains("does not exist") == true)
    }
}

/// The dead letters of `queue` whose body mentions `text`, as the admin endpoint shows them.
func deadLetters(containing text: String, queue route: Messaging.Route) async throws -> [[String: String]] {
    let reply = try await HTTP.get(
        TestCluster.omsInternal + "/oms/admin/dlq/\(route.deadLetterQueue)?limit=500", headers: [("X-Admin-Token", TestCluster.adminToken)])
    guard let json = try JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [String: Any],
          let data = json["data"] as? [[String: Any]]
    else { return [] }
    return data.filter { ($0["body"] as? String)?.contains(text) == true }.map { letter in
        letter.compactMapValues { value in (value as? String) ?? (value as? Int).map(String.init) }
    }
}
