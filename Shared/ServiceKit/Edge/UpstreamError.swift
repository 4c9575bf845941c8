import AMQP
import AsyncHTTPClient
import Contracts
import Foundation
import Hummingbird
import Postgres
import Redis
import Signing

/// Another service answered with an error or could not be reached (a typed client's failure).
public struct UpstreamError: Error, CustomStringConvertible, Sendable {
    public let service: String
    public let status: Int?
    public let message: String
    public init(service: String, status: Int?, message: String) {
        self.service = service
        self.status = status
        self.message = message
    }
    public var description: String { "\(service) answered \(status.map(String.init) ?? "nothing"): \(message)" }
}
