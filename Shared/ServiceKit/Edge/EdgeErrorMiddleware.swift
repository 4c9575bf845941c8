import Hummingbird
import Logging
import NIOHTTP1

/// The outermost middleware of every router (but tracing's): whatever a route throws (or the router's own 404)
/// leaves as a `ShopError`, so every error a client sees is `ResponseVo` JSON (but a broken HTTP
/// request, which the server itself answers). A 500 is a bug and
/// is logged with the error; nothing else is.
struct EdgeErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let parser as HTTPParserError {
            // The request itself is broken (a body cut short, a bad chunk): the server answers
            // and closes the connection; it is not a route's error to render.
            throw parser
        } catch {
            let shop = ShopError(error)
            // OpenTelemetry's attribute names, as the span has them.
            let metadata: Logger.Metadata = [
                "http.request.method": "\(request.method.rawValue)", "url.path": "\(request.uri.path)",
                "http.route": "\(context.endpointPath ?? "-")",
            ]
            if shop.isInternal {
                context.logger.error("http.request.failed", error: error, metadata: metadata)
            } else if shop.status == .serviceUnavailable {
                context.logger.warning("http.request.unavailable", error: error, metadata: metadata)
                if let dependency = ShopError.dependency(of: error) { ShopMetrics.dependencyErrors[dependency]?.increment() }
            }
            throw shop
        }
    }
}
