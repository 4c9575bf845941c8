import AMQP
import Alipay
import Contracts
import Foundation
import ServiceKit
import Testing
import Tracing

/// A trace id as hex, whichever way the exporter's JSON wrote it (OTLP/JSON says hex; a generic
/// protobuf JSON encoder writes bytes as base64).
func hexTraceID(_ id: String) -> String {
    guard id.count != 32, let bytes = Data(base64Encoded: id) else { return id.lowercased() }
    return bytes.map { String(format: "%02x", $0) }.joined()
}

@Suite("Tracing: the buyer's click and Alipay's notify are each one trace across the services")
struct TraceTests {
    init() async throws { try await TestCluster.shared.start() }

    /// Every span but the root names a parent inside the trace: the chain is unbroken.
    func expectConnected(_ spans: [CollectedSpan], names: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        let ids = Set(spans.map(\.spanID))
        for name in names {
            guard let span = spans.first(where: { $0.name == name }) else {
                Issue.record("the trace has no span \(name); it has \(spans.map(\.name))", sourceLocation: sourceLocation)
                continue
            }
            #expect(ids.contains(span.parentID), "\(name)'s parent is not in the trace", sourceLocation: sourceLocation)
        }
    }

    @Test("notify → order.pay → stock.minus and bound.plus: one trace, started at the public edge whatever traceparent the caller sent")
    func notifyChain() async throws {
        let orderSn = try await Databases.newOrder(price: "3.00")
        _ = try await pagePayForm(orderSn: orderSn)
        // A caller on the internet names a trace and asks for it to be sampled: ignored.
        let forged = "0af7651916cd43dd8448eb211c80319c"
        let reply = try await HTTP.send(
            TestCluster.payment + "/pay/success", method: .POST,
            headers: [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"), ("traceparent", "00-\(forged)-b7ad6b7169203331-01")],
            body: FormBody.encode(try notifyPairs(orderSn: orderSn, amount: "3.00")))
        #expect(reply.body == "success")

        let paid = try await TraceCollector.shared.span {
            $0.name == "process order.pay" && $0.attributes["messaging.message.id"] == Messaging.orderPay.messageID(orderSn: orderSn)
        }
        let names = ["process order.pay", "process stock.minus", "process bound.plus"]
        let trace = try await TraceCollector.shared.trace(paid.traceID, containing: names + ["/pay/success"])
        #expect(hexTraceID(paid.traceID) != forged)
        let notify = trace.first { $0.name == "/pay/success" }
        #expect(notify?.parentID.isEmpty == true, "the notify's span is the trace's root")
        #expect(notify?.attributes["http.response.status_code"] == "200")
        expectConnected(trace, names: names)
        for name in ["process stock.minus", "process bound.plus"] {
            #expect(trace.first { $0.name == name }?.attributes["messaging.message.id"]?.hasSuffix(orderSn) == true, "\(name)")
        }
    }

    @Test("buy → sec.kill → order → wms lock: one trace from the buyer's request to the warehouse")
    func buyChain() async throws {
        let (sku, _) = try await openSession(stock: 1)
        let won = try await attempt(sku: sku, buyer: Int64.random(in: 100_000_000...900_000_000))
        #expect(won.code == 0)
        let buy = try await TraceCollector.shared.span { $0.attributes["url.path"] == "/miaosha/\(sku)" }
        var trace = try await TraceCollector.shared.trace(buy.traceID, containing: ["process sec.kill"])
        #expect(buy.parentID.isEmpty)
        let process = try #require(trace.first { $0.name == "process sec.kill" })
        #expect(process.attributes["messaging.message.id"] == Messaging.secKill.messageID(orderSn: won.orderSn ?? ""))
        // Alone, the win's own span makes the wms call; in a batch with other tests' wins, the
        // batch's first span does (and this one links to it).
        guard process.attributes["messaging.batch.message_count"] == nil else { return }
        trace = try await TraceCollector.shared.trace(buy.traceID, containing: ["process sec.kill", "/wms/lock"])
        expectConnected(trace, names: ["process sec.kill", "/wms/lock"])
        let lock = trace.first { $0.name == "/wms/lock" }
        let call = trace.first { $0.spanID == lock?.parentID }
        #expect(call?.name == "POST" && call?.attributes["server.port"] == String(TestCluster.wmsPort + 1000), "wms's server span continues oms's client span")
    }

    @Test("a batch of messages: each gets its own process span in its own trace, and what the batch writes for each continues that span")
    func batchSpans() async throws {
        let parents = (0..<3).map { _ in (trace: Self.hex(16), span: Self.hex(8)) }
        let batch = parents.enumerated().map { index, parent in
            AMQPDelivery(
                deliveryTag: UInt64(index + 1), redelivered: false, exchange: Messaging.exchange, routingKey: Messaging.orderPay.routingKey,
                messageID: "order.pay:BATCH\(index)", headers: ["traceparent": "00-\(parent.trace)-\(parent.span)-01"], body: [])
        }
        let written = try await ShopTracing.consuming(batch, route: Messaging.orderPay) { batch.map { ShopTracing.traceparent(for: $0) } }
        for (index, parent) in parents.enumerated() {
            let spans = try await TraceCollector.shared.trace(parent.trace, containing: ["process order.pay"])
            let own = try #require(spans.first { $0.name == "process order.pay" })
            #expect(own.parentID == parent.span, "the span continues its own message")
            #expect(own.attributes["messaging.message.id"] == "order.pay:BATCH\(index)")
            #expect(own.attributes["messaging.batch.message_count"] == "3")
            #expect(written[index] == "00-\(parent.trace)-\(own.spanID)-01", "a message written for it continues its span")
        }
    }

    static func hex(_ bytes: Int) -> String { (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined() }

    @Test("health checks and metrics scrapes make no traces (a probe every few seconds would be a root trace each)")
    func probesUntraced() async throws {
        for url in [TestCluster.payment + "/health", TestCluster.paymentInternal + "/health", TestCluster.paymentInternal + "/metrics"] {
            #expect(try await HTTP.get(url).status == .ok, "\(url)")
        }
        // A traced request after them: once its span is in, theirs would be too.
        let marker = "/pay/ok"
        _ = try await HTTP.get(TestCluster.payment + marker + "?probe=\(UUID().uuidString)")
        _ = try await TraceCollector.shared.span { $0.attributes["url.path"] == marker }
        // Server spans only: the test's own HTTP client traces its calls too.
        let probes = TraceCollector.shared.all.filter { span in
            guard span.kind == 2, let path = span.attributes["url.path"] else { return false }
            return path == "/metrics" || path.hasSuffix("/health") || path.contains("/health/")
        }
        #expect(probes.isEmpty, "\(probes.map(\.name))")
    }

    @Test("log lines carry the current span's trace_id and span_id")
    func logMetadata() async throws {
        let outside = ShopTracing.logMetadata.get()
        #expect(outside["trace_id"] == nil)
        let (first, again) = await withSpan("test.log.first") { _ in
            (ShopTracing.logMetadata.get(), ShopTracing.logMetadata.get())
        }
        let second = await withSpan("test.log.second") { _ in ShopTracing.logMetadata.get() }
        let id = first["trace_id"].map { "\($0)" } ?? ""
        #expect(id.count == 32 && id.allSatisfy(\.isHexDigit), "\(first)")
        #expect(first["span_id"] != nil)
        #expect(again["trace_id"].map { "\($0)" } == id)
        #expect(second["trace_id"].map { "\($0)" } != id, "a new root span is a new trace")
    }
}
