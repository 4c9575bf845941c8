import Hummingbird
import Signing

/// Routes for a logged-in buyer: sets `context.buyer` or answers 401. A state change (any method
/// but GET and HEAD) authenticated by the `GMALL-TOKEN` cookie must also carry a non-empty
/// `X-Requested-With` header: a cross-site form or link cannot set one, so a page elsewhere cannot
/// make the buyer's browser buy (CSRF). A bearer header is never sent by a browser on its own.
package struct BuyerAuthMiddleware: RouterMiddleware {
    package typealias Context = ShopRequestContext
    let authenticator: BuyerAuthenticator

    package init(_ authenticator: BuyerAuthenticator) { self.authenticator = authenticator }

    package func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let login = try authenticator.login(of: request)
        if login.fromCookie, request.method != .get, request.method != .head,
           (request.headers[.init("X-Requested-With")!] ?? "").isEmpty {
            throw ShopError.forbidden("a cookie login needs the X-Requested-With header to change anything")
        }
        var context = context
        context.buyer = login.buyer
        return try await next(request, context)
    }
}

/// Internal routes another service calls: a valid `X-Service-Token` from one of `callers`, or 401
/// (403 for a valid token of a service this route does not serve). Sets `context.caller`.
package struct ServiceAuthMiddleware: RouterMiddleware {
    package typealias Context = ShopRequestContext
    let key: [UInt8]?
    let callers: Set<String>

    package init(key: [UInt8]?, callers: Set<String>) {
        self.key = key
        self.callers = callers
    }

    package func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let key, let token = request.headers[.init(ServiceToken.header)!], let caller = ServiceToken.caller(of: token, key: key) else {
            throw ShopError.unauthorized("a valid service token is required")
        }
        guard callers.contains(caller) else { throw ShopError.forbidden("this route does not serve \(caller)") }
        var context = context
        context.caller = caller
        return try await next(request, context)
    }
}

/// Operator routes: `X-Admin-Token` equal to `GMALL_ADMIN_TOKEN` (compared in constant time),
/// else 403; with no admin token configured they are all 403.
package struct AdminAuthMiddleware: RouterMiddleware {
    package typealias Context = ShopRequestContext
    let token: String?

    package init(token: String?) { self.token = token }

    package func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let token, !token.isEmpty else { throw ShopError.forbidden("admin endpoints are disabled: set GMALL_ADMIN_TOKEN") }
        guard let given = request.headers[.init("X-Admin-Token")!], ConstantTime.equals(given, token) else {
            throw ShopError.forbidden("bad admin token")
        }
        return try await next(request, context)
    }
}
