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

extension Router where Context == ShopRequestContext {
    /// A router whose every route, and its 404, answers errors as `ResponseVo` and is counted in
    /// the HTTP metrics. Middlewares apply to routes added after them: make routers only here.
    package static func shop() -> Router<ShopRequestContext> {
        let router = Router(context: ShopRequestContext.self)
        router.add(middleware: EdgeErrorMiddleware())
        router.add(middleware: MetricsMiddleware())
        return router
    }
}
