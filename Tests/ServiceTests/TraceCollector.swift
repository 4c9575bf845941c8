import Foundation
import Hummingbird
import Logging
import ServiceKit
import ServiceLifecycle
import Synchronization

/// One span as an OTLP/HTTP exporter sent it.
struct CollectedSpan: Sendable {
    let traceID: String
    let spanID: String
    let parentID: String
    let name: String
    /// OTLP's span kind: 2 server, 3 client, 5 consumer.
    let kind: Int
    let attributes: [String: String]
}

/// A local OTLP/HTTP collector (JSON encoding) for the test cluster: it keeps every span the
/// services export. The cluster's tracing points at it (`TestCluster.tracing`).
final class TraceCollector: Sendable {
    static let shared = TraceCollector()
    static let port = 28096
    private let spans = Mutex<[CollectedSpan]>([])

    var all: [CollectedSpan] { spans.withLock { $0 } }

    /// The collector's listener, to run in the cluster's service group.
    func application() -> some Service {
        let router = Router()
        router.post("/v1/traces") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 16 << 20)
            self.receive(Data(buffer: body))
            // An empty ExportTraceServiceResponse: everything accepted.
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{}")))
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: Self.port)), logger: Logger(label: "test.otlp"))
    }

    /// An id as lowercase hex, the form of a `traceparent` header: OTLP's JSON says hex, but an
    /// exporter going by protobuf's JSON mapping sends the bytes in base64.
    static func hex(_ value: Any?) -> String {
        guard let text = value as? String, !text.isEmpty else { return "" }
        if (text.count == 32 || text.count == 16), text.allSatisfy(\.isHexDigit) { return text.lowercased() }
        guard let bytes = Data(base64Encoded: text) else { return text }
        return bytes.map { String(format: "%02x", $0) }.joined()
    }

    private func receive(_ body: Data) {
        guard let root = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else { return }
        var received: [CollectedSpan] = []
        for resource in root["resourceSpans"] as? [[String: Any]] ?? [] {
            for scope in resource["scopeSpans"] as? [[String: Any]] ?? [] {
                for span in scope["spans"] as? [[String: Any]] ?? [] {
                    var attributes: [String: String] = [:]
                    for attribute in span["attributes"] as? [[String: Any]] ?? [] {
                        guard let key = attribute["key"] as? String, let value = attribute["value"] as? [String: Any] else { continue }
                        attributes[key] = (value["stringValue"] as? String) ?? (value["intValue"]).map { "\($0)" }
                    }
                    received.append(CollectedSpan(
                        traceID: Self.hex(span["traceId"]), spanID: Self.hex(span["spanId"]),
                        parentID: Self.hex(span["parentSpanId"]), name: span["name"] as? String ?? "",
                        kind: (span["kind"] as? Int) ?? Int(span["kind"] as? String ?? "") ?? 0, attributes: attributes))
                }
            }
        }
        spans.withLock { $0.append(contentsOf: received) }
    }

    /// Waits (up to 15 s) until a span matching `match` has arrived.
    func span(where match: (CollectedSpan) -> Bool) async throws -> CollectedSpan {
        for _ in 0..<150 {
            if let span = all.first(where: match) { return span }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ClusterError("no such span arrived at the collector")
    }

    /// Waits until `trace` has a span for each of `names` (up to 15 s); returns the trace's spans.
    func trace(_ traceID: String, containing names: [String]) async throws -> [CollectedSpan] {
        var spans: [CollectedSpan] = []
        for _ in 0..<150 {
            spans = all.filter { $0.traceID == traceID }
            if names.allSatisfy({ name in spans.contains { $0.name == name } }) { return spans }
            try await Task.sleep(for: .milliseconds(100))
        }
        return spans
    }
}
