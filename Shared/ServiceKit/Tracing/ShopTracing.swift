import AMQP
import AsyncHTTPClient
import Contracts
import Logging
import OTel
import ServiceLifecycle
import Synchronization
import Tracing

/// One trace from the buyer's click to the warehouse: the process's tracer (OpenTelemetry,
/// exported over OTLP/HTTP), and the W3C `traceparent` carried across each hop — HTTP headers
/// between the services (AsyncHTTPClient makes a client span and writes them itself, with the
/// tracer bootstrapped before the clients are made; Hummingbird's `TracingMiddleware` reads them),
/// AMQP headers on every message, and the outbox's `traceparent` column for messages a relay
/// publishes later (so a relayed `order.pay` continues the notify's trace).
///
/// Off unless `TracingConfig` names an endpoint: then no span is made, no header written, and the
/// HTTP tracing middleware is not installed at all.
public enum ShopTracing {
    private static let enabled = Atomic<Bool>(false)

    /// Whether this process makes spans (set once, by `bootstrap`).
    public static var isEnabled: Bool { enabled.load(ordering: .relaxed) }

    /// Installs the process's tracer when `config` names an OTLP endpoint and returns the service
    /// that batches and exports the spans (run it in the service group); nil when tracing is off.
    /// Once per process: the tracer is global.
    public static func bootstrap(_ config: TracingConfig, logger: Logger) throws -> (any Service)? {
        guard config.endpoint != nil else { return nil }
        var otel = OTel.Configuration.default
        otel.serviceName = config.serviceName
        otel.diagnosticLogger = .custom(logger)
        otel.diagnosticLogLevel = .warning
        otel.propagators = [.traceContext]
        otel.logs.enabled = false
        otel.metrics.enabled = false  // Prometheus scrapes the metrics
        otel.traces.enabled = true
        let service = try OTel.bootstrap(configuration: otel, environment: config.environment)
        enabled.store(true, ordering: .relaxed)
        logger.info("tracing.started", metadata: ["otel.service.name": "\(config.serviceName)", "otel.endpoint": "\(config.endpoint ?? "")"])
        return service
    }

    /// A client for calls outside the shop (Alipay): it makes no spans and sends no
    /// `traceparent`, so a third party never learns our trace ids or which traces are sampled.
    /// Calls between the services use a default client, which does both (AsyncHTTPClient takes
    /// the tracer that is bootstrapped when it is made).
    package static func untracedHTTPClient() -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.tracing.tracer = nil
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Adds `trace_id`, `span_id` and `trace_flags` of the current span to every log line (the
    /// names OpenTelemetry's log data model and collectors' parsers use).
    public static let logMetadata: Logger.MetadataProvider = OTel.makeLoggingMetadataProvider()

    /// The current trace context as message headers (`traceparent`, `tracestate`); empty when
    /// tracing is off or no span is current.
    public static func messageHeaders() -> [String: String] {
        guard isEnabled, let context = ServiceContext.current else { return [:] }
        var headers: [String: String] = [:]
        InstrumentationSystem.instrument.inject(context, into: &headers, using: DictionaryInjector())
        return headers
    }

    /// The current `traceparent`, for a message written now and published later (the outbox).
    public static func traceparent() -> String? { messageHeaders()["traceparent"] }

    /// Runs a consumer's handler for a batch (one delivery or more) in a `process <routing key>`
    /// span per delivery, each continuing the trace in its message's headers (a new trace when it
    /// carries none), so an operator following one payment or one win finds its step; all last
    /// the batch's work. Named after the route the queue serves, not the delivery's own routing
    /// key: a retry comes back from its retry queue with the queue's name as its key. The work
    /// itself (a statement, a call to wms) runs in the first delivery's span; each other span
    /// links to it. What the batch writes for one delivery continues that delivery's span:
    /// `traceparent(for:)`.
    package static func consuming<T>(
        _ batch: [AMQPDelivery], route: Messaging.Route, _ body: () async throws -> T
    ) async throws -> T {
        guard isEnabled, let first = batch.first else { return try await body() }
        return try await withSpan("process \(route.routingKey)", context: context(of: first), ofKind: .consumer) { span in
            describe(span, first, route: route, batch: batch.count)
            var others: [any Span] = []
            var contexts: [UInt64: ServiceContext] = [:]
            for other in batch.dropFirst() {
                let own = startSpan("process \(route.routingKey)", context: context(of: other), ofKind: .consumer)
                describe(own, other, route: route, batch: batch.count)
                own.addLink(SpanLink(context: span.context, attributes: [:]))
                if contexts[other.deliveryTag] == nil { contexts[other.deliveryTag] = own.context }
                others.append(own)
            }
            do {
                let result = try await $batchContexts.withValue(contexts) { try await body() }
                for own in others { own.end() }
                return result
            } catch {
                for own in others {
                    own.recordError(error)
                    own.setStatus(SpanStatus(code: .error))
                    own.end()
                }
                throw error
            }
        }
    }

    /// The span context of each delivery of the batch being handled but the first (whose span is
    /// the current one).
    @TaskLocal private static var batchContexts: [UInt64: ServiceContext] = [:]

    /// The `traceparent` for a message written while handling `delivery`: its own `process`
    /// span's, in a batch or alone; nil when tracing is off.
    package static func traceparent(for delivery: AMQPDelivery) -> String? {
        guard isEnabled else { return nil }
        guard let context = batchContexts[delivery.deliveryTag] else { return traceparent() }
        var headers: [String: String] = [:]
        InstrumentationSystem.instrument.inject(context, into: &headers, using: DictionaryInjector())
        return headers["traceparent"]
    }

    /// Runs `body` in `delivery`'s own span of the batch being handled (the current span already
    /// for the first): a batch handing one delivery to its single-message handler keeps that
    /// delivery's spans and messages in its own trace.
    package static func within<T>(_ delivery: AMQPDelivery, _ body: () async throws -> T) async throws -> T {
        guard isEnabled, let context = batchContexts[delivery.deliveryTag] else { return try await body() }
        return try await ServiceContext.withValue(context) { try await body() }
    }

    private static func context(of delivery: AMQPDelivery) -> ServiceContext {
        var context = ServiceContext.topLevel
        InstrumentationSystem.instrument.extract(delivery.headers, into: &context, using: DictionaryExtractor())
        return context
    }

    private static func describe(_ span: any Span, _ delivery: AMQPDelivery, route: Messaging.Route, batch: Int) {
        span.updateAttributes { attributes in
            attributes["messaging.system"] = "rabbitmq"
            attributes["messaging.operation.type"] = "process"
            attributes["messaging.destination.name"] = Messaging.exchange
            attributes["messaging.rabbitmq.destination.routing_key"] = route.routingKey
            attributes["messaging.rabbitmq.attempt"] = Int(delivery.attempt)
            attributes["messaging.consumer.group.name"] = route.queue
            attributes["messaging.message.id"] = delivery.messageID
            if batch > 1 { attributes["messaging.batch.message_count"] = batch }
        }
    }
}

private struct DictionaryInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) { carrier[key] = value }
}

private struct DictionaryExtractor: Extractor {
    func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
}
