import Foundation

/// The gmall JSON envelope: `{"code":0,"msg":"success","data":...}`.
package struct ResponseVo<T: Codable & Sendable>: Codable, Sendable {
    package var code: Int
    package var msg: String
    package var data: T?

    package init(code: Int, msg: String, data: T?) {
        self.code = code
        self.msg = msg
        self.data = data
    }

    package static func ok(_ data: T) -> ResponseVo { ResponseVo(code: 0, msg: "success", data: data) }
}

/// Codes in `ResponseVo.code` shared across services.
package enum ResponseCode {
    package static let ok = 0
    package static let badRequest = 400
    package static let unauthorized = 401
    package static let forbidden = 403
    package static let notFound = 404
    package static let methodNotAllowed = 405
    package static let conflict = 409
    package static let contentTooLarge = 413
    package static let tooManyRequests = 429
    package static let internalError = 500
    /// A dependency (PostgreSQL, Redis, RabbitMQ, another service) is unavailable right now: the
    /// request changed nothing and may be sent again after the `Retry-After` seconds (HTTP 503).
    package static let retry = 1006
}
