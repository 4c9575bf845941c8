import Hummingbird
import Tracing

/// Hummingbird's `TracingMiddleware` for the routes worth a trace: health checks and metrics
/// scrapes pass untraced. A kubelet probes every few seconds and Prometheus scrapes every 15:
/// each would otherwise be a root trace of its own, exported and sampled like a buyer's.
struct RouteTracingMiddleware<Context: RequestContext>: RouterMiddleware {
    let tracing: TracingMiddleware<Context>

    static func untraced(_ path: String) -> Bool {
        path == "/metrics" || path.hasSuffix("/health") || path.contains("/health/")
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if Self.untraced(request.uri.path) { return try await next(request, context) }
        return try await tracing.handle(request, context: context, next: next)
    }
}
