import Contracts
import Hummingbird
import Logging
import ServiceKit

/// A `ResponseVo` for `body`'s result: a shortage is 409, invalid input 400, both with the reason.
func answer<T: Codable & Sendable>(_ body: () async throws -> T) async throws -> Response {
    do {
        return try ShopJSON.response(ResponseVo.ok(try await body()))
    } catch let shortage as StockShortage {
        return try ShopJSON.response(ResponseVo<T>(code: ResponseCode.conflict, msg: shortage.description, data: nil), status: .conflict)
    } catch let invalid as ValidationError {
        return try ShopJSON.response(ResponseVo<T>(code: ResponseCode.badRequest, msg: invalid.description, data: nil), status: .badRequest)
    }
}

/// Builds the wms service: stock locks and reservations over HTTP, `stock.minus` and
/// `stock.unlock` consumers.
public func buildApplication(_ config: WareServiceConfig) async throws -> ShopApplication {
    let logger = makeLogger(label: "gmall.wms", level: config.shared.logLevel)
    let infrastructure = Infrastructure(config: config.shared, logger: logger)
    try await infrastructure.migrate(database: config.database)
    let warehouse = Warehouse(postgres: infrastructure.postgres, logger: logger)
    let router = Router(context: ShopRequestContext.self)

    router.post("/wms/lock") { request, context -> Response in
        let body = try await request.decode(as: StockLockRequest.self, context: context)
        return try await answer { try await warehouse.lock(body) }
    }
    router.post("/wms/reservations") { request, context -> Response in
        let body = try await request.decode(as: ReservationRequest.self, context: context)
        return try await answer { try await warehouse.reserve(body) }
    }
    router.post("/wms/reservations/:key/release") { _, context -> Response in
        guard let state = try await warehouse.releaseReservation(try context.parameters.require("key")) else {
            return try ShopJSON.response(ResponseVo<ReservationState>(code: ResponseCode.notFound, msg: "no such reservation", data: nil), status: .notFound)
        }
        return try ShopJSON.response(ResponseVo.ok(state))
    }
    router.addDeadLetterAdmin(service: "wms", infrastructure: infrastructure, token: config.shared.adminToken)
    let consumers = [
        infrastructure.consumer(for: Messaging.stockMinus, handler: warehouse.stockMinus),
        infrastructure.consumer(for: Messaging.stockUnlock, handler: warehouse.stockUnlock),
    ]
    return makeShopApplication(name: "wms", infrastructure: infrastructure, router: router, services: consumers, logger: logger)
}
