import Hummingbird

/// The request context of every service: small bodies only (64 KiB; larger ones get 413), and who
/// is asking, once an auth middleware has said so.
public struct ShopRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The logged-in buyer (set by `BuyerAuthMiddleware`).
    public var buyer: Int64?
    /// The calling service (set by `ServiceAuthMiddleware`).
    public var caller: String?

    public init(source: Source) { coreContext = .init(source: source) }
    public var maxUploadSize: Int { 64 * 1024 }

    /// The buyer, for a route behind `BuyerAuthMiddleware`.
    public func requireBuyer() throws -> Int64 {
        guard let buyer else { throw ShopError.unauthorized("login required") }
        return buyer
    }
}

/// Which of a service's two listeners a router serves.
package enum Listener: Sendable {
    /// What the gateway may route to: the internet's requests.
    case `public`
    /// Calls between the services, operator endpoints and metrics; never published.
    case `internal`
}

extension Router where Context == ShopRequestContext {
    /// A router whose every route but health and metrics, and its 404, is traced (when tracing is
    /// on: `ShopTracing`),
    /// answers errors as `ResponseVo` and (with `metrics`) is counted in the HTTP metrics.
    /// Middlewares apply to routes added after them: make routers only here. Without `metrics`,
    /// routes added before `countRequests()` are not counted (the flash-sale buy: Hummingbird's
    /// per-request metrics cost it 12 % of its throughput, measured with deploy/bench/seckill).
    /// The public listener starts a new trace for each request; the internal one continues the
    /// caller's (`traceparent`).
    package static func shop(_ listener: Listener, metrics: Bool = true) -> Router<ShopRequestContext> {
        let router = Router(context: ShopRequestContext.self)
        if ShopTracing.isEnabled {
            // Outside the error middleware: the span records the status the caller got. On the
            // public listener the buy's code, nonce and answer and Alipay's return `sign` are
            // recorded as REDACTED.
            if listener == .public { router.add(middleware: TraceBoundaryMiddleware()) }
            let redacted: Set<String> = listener == .public ? ["code", "nonce", "answer", "sign"] : []
            router.add(middleware: RouteTracingMiddleware(tracing: TracingMiddleware(redactingQueryParameters: redacted)))
        }
        router.add(middleware: EdgeErrorMiddleware())
        if metrics { router.countRequests() }
        return router
    }

    /// Counts the routes added from now on (and the 404s) in the HTTP metrics.
    package func countRequests() {
        add(middleware: MetricsMiddleware())
    }
}
