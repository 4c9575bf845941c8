import Hummingbird
import Signing

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
