import Hummingbird
import Signing

/// Routes for a logged-in buyer: sets `context.buyer` or answers 401. A login by the `GMALL-TOKEN`
/// cookie is refused when the browser marks the request `Sec-Fetch-Site: cross-site` (so another
/// site cannot make the buyer's browser open a payment through `GET /alipay.html`), and a state
/// change (any method but GET and HEAD) by cookie must also carry a non-empty `X-Requested-With`
/// header, which a cross-site form or link cannot set (CSRF). A bearer header is never sent by a
/// browser on its own.
package struct BuyerAuthMiddleware: RouterMiddleware {
    package typealias Context = ShopRequestContext
    let authenticator: BuyerAuthenticator

    package init(_ authenticator: BuyerAuthenticator) { self.authenticator = authenticator }

    package func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let login = try authenticator.login(of: request)
        if login.fromCookie {
            // A browser says where a request came from; a cookie sent along with another site's
            // request (a link, an <img>, a form) is not the buyer acting here.
            if request.headers[.init("Sec-Fetch-Site")!] == "cross-site" {
                throw ShopError.forbidden("a cookie login is not accepted from another site")
            }
            if request.method != .get, request.method != .head, (request.headers[.init("X-Requested-With")!] ?? "").isEmpty {
                throw ShopError.forbidden("a cookie login needs the X-Requested-With header to change anything")
            }
        }
        var context = context
        context.buyer = login.buyer
        return try await next(request, context)
    }
}

/// Internal routes another service calls: a valid `X-Service-Token` addressed to `service` from one
/// of `callers`, or 401 (403 for a valid token of a service this route does not serve). Sets
/// `context.caller`.
package struct ServiceAuthMiddleware: RouterMiddleware {
    package typealias Context = ShopRequestContext
    let service: String
    let key: [UInt8]?
    let callers: Set<String>

    package init(service: String, key: [UInt8]?, callers: Set<String>) {
        self.service = service
        self.key = key
        self.callers = callers
    }

    package func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let key, let token = request.headers[.init(ServiceToken.header)!],
              let caller = ServiceToken.caller(of: token, to: service, key: key)
        else {
            throw ShopError.unauthorized("a valid service token is required")
        }
        guard callers.contains(caller) else { throw ShopError.forbidden("this route does not serve \(caller)") }
        var context = context
        context.caller = caller
        return try await next(request, context)
    }
}

/// Operator routes: `X-Admin-Token` equal to `GMALL_ADMIN_TOKEN` (compared in constant time);
/// 401 without the header, 403 with a wrong one; with no admin token configured they are all 403.
package struct AdminAuthMiddleware: RouterMiddleware {
    package typealias Context = ShopRequestContext
    let token: String?

    package init(token: String?) { self.token = token }

    package func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let token, !token.isEmpty else { throw ShopError.forbidden("admin endpoints are disabled: set GMALL_ADMIN_TOKEN") }
        guard let given = request.headers[.init("X-Admin-Token")!] else { throw ShopError.unauthorized("X-Admin-Token is required") }
        guard ConstantTime.equals(given, token) else { throw ShopError.forbidden("bad admin token") }
        return try await next(request, context)
    }
}
