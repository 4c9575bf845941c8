import AsyncHTTPClient
import Contracts
import Foundation
import NIOCore
import ServiceKit

/// Reads orders from oms over HTTP (`GET /oms/order/token/{orderSn}`).
package struct OrderClient: Sendable {
    package let baseURL: String
    package let http: HTTPClient

    /// The order, nil when oms does not know it; throws when oms cannot be asked.
    package func order(_ orderSn: String) async throws -> OrderEntity? {
        let escaped = orderSn.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? orderSn
        let response = try await http.execute(HTTPClientRequest(url: "\(baseURL)/oms/order/token/\(escaped)"), timeout: .seconds(5))
        let body = try await response.body.collect(upTo: 1 << 20)
        if response.status == .notFound { return nil }
        guard response.status == .ok else { throw OrderLookupError(status: Int(response.status.code)) }
        let vo = try ShopJSON.decoder.decode(ResponseVo<OrderEntity>.self, from: Data(buffer: body))
        return vo.code == ResponseCode.ok ? vo.data : nil
    }
}

struct OrderLookupError: Error, CustomStringConvertible {
    let status: Int
    var description: String { "oms answered HTTP \(status)" }
}
