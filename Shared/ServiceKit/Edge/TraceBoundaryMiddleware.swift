import HTTPTypes
import Hummingbird

/// The public listener's edge for trace context: a `traceparent`, `tracestate` or `baggage` from
/// the internet is dropped, so each public request starts its own trace. A caller that chose the
/// trace id could join its requests to others' traces, and its sampled flag could make every
/// request it sends recorded and exported.
struct TraceBoundaryMiddleware<Context: RequestContext>: RouterMiddleware {
    static var untrusted: [HTTPField.Name] {
        [HTTPField.Name("traceparent")!, HTTPField.Name("tracestate")!, HTTPField.Name("baggage")!]
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard Self.untrusted.contains(where: { request.headers[$0] != nil }) else { return try await next(request, context) }
        var head = request.head
        for name in Self.untrusted { head.headerFields[name] = nil }
        return try await next(Request(head: head, body: request.body), context)
    }
}
