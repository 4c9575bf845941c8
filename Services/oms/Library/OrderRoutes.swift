import Contracts
import Hummingbird
import ServiceKit

/// oms's HTTP side: a buyer's own order on the public listener; the order lookup payment makes
/// (service token) on the internal one.
struct OrderRoutes: Sendable {
    let orders: any OrderStore

    func register(public router: Router<ShopRequestContext>, buyers: BuyerAuthenticator) {
        router.group().add(middleware: BuyerAuthMiddleware(buyers)).get("/oms/order/:orderSn", use: buyerOrder)
    }

    func register(internal router: Router<ShopRequestContext>, serviceKey: [UInt8]?) {
        router.group().add(middleware: ServiceAuthMiddleware(service: "oms", key: serviceKey, callers: ["payment"]))
            .get("/oms/order/token/:orderSn", use: anyOrder)
    }

    /// `GET /oms/order/{orderSn}`: the buyer's own order; another buyer's answers exactly like a
    /// missing one.
    @Sendable func buyerOrder(_ request: Request, context: ShopRequestContext) async throws -> Response {
        let buyer = try context.requireBuyer()
        let orderSn = try context.parameters.require("orderSn")
        guard (try? Input.orderNumber(orderSn)) != nil, let order = try await orders.find(orderSn: orderSn), order.userId == buyer else {
            throw ShopError.notFound("order not found")
        }
        return try ShopJSON.response(ResponseVo.ok(order))
    }

    /// `GET /oms/order/token/{orderSn}` (internal): any order, for payment.
    @Sendable func anyOrder(_ request: Request, context: ShopRequestContext) async throws -> Response {
        let orderSn = try context.parameters.require("orderSn")
        try Input.orderNumber(orderSn)
        guard let order = try await orders.find(orderSn: orderSn) else { throw ShopError.notFound("order not found") }
        return try ShopJSON.response(ResponseVo.ok(order))
    }
}
