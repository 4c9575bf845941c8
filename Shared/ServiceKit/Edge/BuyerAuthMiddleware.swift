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
