import Hummingbird
import Signing

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
