import AsyncHTTPClient
import Contracts

/// oms's internal order lookup, as payment calls it (`GET /oms/order/token/{orderSn}`).
package struct OrderClient: Sendable {
    private let call: InternalCall

    package init(baseURL: String, http: HTTPClient, credential: ServiceCredential) {
        call = InternalCall(service: "oms", baseURL: baseURL, http: http, credential: credential)
    }

    /// The order, nil when oms does not know it; throws when oms cannot be asked.
    package func order(_ orderSn: String) async throws -> OrderEntity? {
        let (status, vo) = try await call.send(.GET, "/oms/order/token/\(pathSegment(orderSn))", as: OrderEntity.self)
        if status == 404 { return nil }
        guard status == 200 else { throw call.failure(status, vo.msg) }
        return vo.data
    }
}
