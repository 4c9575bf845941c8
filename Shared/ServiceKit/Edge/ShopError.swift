import AMQP
import AsyncHTTPClient
import Contracts
import Foundation
import Hummingbird
import Postgres
import Redis
import Signing

/// Every error a client sees: a `ResponseVo` JSON body with its HTTP status (and `Retry-After`
/// where trying again helps). Whatever a handler throws becomes one of these in
/// `EdgeErrorMiddleware`, through `init(_:)`, the one place errors are mapped.
public struct ShopError: Error, HTTPResponseError, CustomStringConvertible, Sendable {
    public let status: HTTPResponse.Status
    /// `ResponseVo.code`.
    public let code: Int
    public let message: String
    /// Seconds, for 429 and 503.
    public let retryAfter: Int?

    public init(status: HTTPResponse.Status, code: Int? = nil, message: String, retryAfter: Int? = nil) {
        self.status = status
        self.code = code ?? Int(status.code)
        self.message = message
        self.retryAfter = retryAfter
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    public static func badRequest(_ message: String) -> ShopError { ShopError(status: .badRequest, message: message) }
    public static func unauthorized(_ message: String) -> ShopError { ShopError(status: .unauthorized, message: message) }
    public static func forbidden(_ message: String) -> ShopError { ShopError(status: .forbidden, message: message) }
    public static func notFound(_ message: String = "not found") -> ShopError { ShopError(status: .notFound, message: message) }
    public static func conflict(_ message: String) -> ShopError { ShopError(status: .conflict, message: message) }
    /// A dependency is down: nothing was changed, try again.
    public static func unavailable(_ message: String = "temporarily unavailable, please retry", retryAfter: Int = 1) -> ShopError {
        ShopError(status: .serviceUnavailable, code: ResponseCode.retry, message: message, retryAfter: retryAfter)
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = try ShopJSON.encoder.encode(ResponseVo<String>(code: code, msg: message, data: nil))
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

extension ShopError {
    /// The dependency whose failure `error` is, for the metrics.
    static func dependency(of error: any Error) -> String? {
        switch error {
        case is PostgresError: "postgres"
        case is RedisError: "redis"
        case is AMQPError: "rabbitmq"
        default: nil
        }
    }

    /// The client's view of `error`. Infrastructure that is down or restarting is a 503 to retry;
    /// input that could not be read is a 400; anything else is a bug: 500, logged by the caller.
    public init(_ error: any Error) {
        switch error {
        case let shop as ShopError:
            self = shop
        case let input as InputError:
            self = .badRequest(input.description)
        case let http as HTTPError:
            self = ShopError(status: http.status, message: http.body ?? Self.phrase(http.status))
        case let other as any HTTPResponseError where other.status.code < 500:
            // Hummingbird's and NIO's own (a body over the upload limit is NIOTooManyBytesError: 413).
            self = ShopError(status: other.status, message: Self.phrase(other.status))
        case is DecodingError:
            self = .badRequest("the body is not the expected JSON")
        case let pg as PostgresError:
            switch pg.kind {
            case .connection, .poolClosed: self = .unavailable()
            case .invalidParameter: self = .badRequest("input holds characters the database cannot store")
            case .server where Self.transientSQLStates.contains(where: { pg.sqlState?.hasPrefix($0) == true }): self = .unavailable()
            default: self = Self.internalError
            }
        case let redis as RedisError:
            switch redis.kind {
            case .connection, .poolClosed: self = .unavailable()
            case .server where Self.transientRedisErrors.contains(where: { redis.message.hasPrefix($0) }): self = .unavailable()
            default: self = Self.internalError
            }
        case let amqp as AMQPError:
            self = amqp.kind == .broker ? Self.internalError : .unavailable()
        case is UpstreamError, is HTTPClientError, is CancellationError:
            self = .unavailable()
        default:
            self = Self.internalError
        }
    }

    public var isInternal: Bool { status == .internalServerError }

    static let internalError = ShopError(status: .internalServerError, message: "internal error")
    /// Connection exceptions, operator intervention (shutdown, restart, statement timeout),
    /// insufficient resources, a read-only standby after a failover, lock timeouts, serialization
    /// failures and deadlocks: gone on a retry.
    static let transientSQLStates = ["08", "57", "53", "25006", "55P03", "40001", "40P01"]
    /// Redis loading its data, busy with a script, a replica or a cluster between states, out of
    /// memory: gone on a retry.
    static let transientRedisErrors = ["LOADING", "BUSY", "READONLY", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN", "NOREPLICAS", "OOM"]

    static func phrase(_ status: HTTPResponse.Status) -> String {
        switch status.code {
        case 404: "not found"
        case 405: "method not allowed"
        case 413: "the body is larger than 64 KiB"
        default: status.reasonPhrase.lowercased()
        }
    }
}
