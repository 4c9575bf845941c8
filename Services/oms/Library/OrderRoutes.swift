import Contracts
import Hummingbird
import ServiceKit

/// oms's HTTP side: a buyer's own order on the public listener. Internal: the order lookup
/// payment makes and the checkout API (service tokens), an operator's close and refund (admin token).
struct OrderRoutes: Sendable {
    let orders: any OrderStore
    let handlers: OrderMessageHandlers
    let checkout: Checkout
    let refunds: OperatorRefunds

    func register(public router: Router<ShopRequestContext>, buyers: BuyerAuthenticator) {
        router.group().add(middleware: BuyerAuthMiddleware(buyers)).get("/oms/order/:orderSn", use: buyerOrder)
    }

    func register(internal router: Router<ShopRequestContext>, serviceKey: [UInt8]?, adminToken: String?) {
        router.group().add(middleware: ServiceAuthMiddleware(service: "oms", key: serviceKey, callers: ["payment"]))
            .get("/oms/order/token/:orderSn", use: anyOrder)
        router.group().add(middleware: ServiceAuthMiddleware(service: "oms", key: serviceKey, callers: ["checkout"]))
            .post("/oms/orders", use: placeOrder)
        let admin = router.group("/oms/admin").add(middleware: AdminAuthMiddleware(token: adminToken))
        admin.post("orders/:orderSn/refund", use: refundOrder)
        admin.post("orders/:orderSn/close", use: closeOrder)
    }

    /// `POST /oms/orders` (internal, caller `checkout`): a normal order from a checkout, idempotent
    /// on its order token. 200 with the order; 409 code 409 on a shortage (nothing locked), 4093
    /// when the token came with another request, 4094 when the checkout expired.
    @Sendable func placeOrder(_ request: Request, context: ShopRequestContext) async throws -> Response {
        let body = try await request.decodeJSON(as: CheckoutOrderRequest.self, context: context)
        switch try await checkout.place(body) {
        case .placed(let orderSn):
            guard let order = try await orders.find(orderSn: orderSn) else { throw ShopError.unavailable("the order is being written") }
            return try ShopJSON.response(ResponseVo.ok(order))
        case .shortage:
            throw ShopError(status: .conflict, code: OrderCode.shortage, message: "not enough stock for every line: nothing was ordered")
        case .tokenReused:
            throw ShopError(status: .conflict, code: OrderCode.tokenReused, message: "this orderToken was used for another request")
        case .expired:
            throw ShopError(status: .conflict, code: OrderCode.expired, message: "this checkout expired before its order was written")
        }
    }

    /// `POST /oms/admin/orders/{orderSn}/close` (internal, admin token): an unpaid order closed now,
    /// exactly as its timer would (stock released, Alipay trade closed); again: the same answer.
    /// 404 for no such order, 409 for an order past unpaid.
    @Sendable func closeOrder(_ request: Request, context: ShopRequestContext) async throws -> Response {
        let orderSn = try context.parameters.require("orderSn")
        try Input.orderNumber(orderSn)
        _ = try await handlers.close(orderSn: orderSn)
        guard let order = try await orders.find(orderSn: orderSn) else { throw ShopError.notFound("order not found") }
        guard order.status == .closed else {
            throw ShopError(status: .conflict, code: OrderCode.notClosable, message: "only an unpaid order can be closed (status \(order.status.rawValue))")
        }
        return try ShopJSON.response(ResponseVo.ok(order))
    }

    /// `POST /oms/admin/orders/{orderSn}/refund` (internal, admin token): a paid order refunded in
    /// full, once; again: the first result. 404 for no such order, 409 for an order not paid.
    @Sendable func refundOrder(_ request: Request, context: ShopRequestContext) async throws -> Response {
        let orderSn = try context.parameters.require("orderSn")
        try Input.orderNumber(orderSn)
        do {
            return try ShopJSON.response(ResponseVo.ok(try await refunds.refund(orderSn: orderSn)))
        } catch OperatorRefunds.Refusal.missing {
            throw ShopError.notFound("order not found")
        } catch OperatorRefunds.Refusal.notRefundable(let status) {
            throw ShopError(status: .conflict, code: OrderCode.notRefundable, message: "only a paid order can be refunded (status \(status.rawValue))")
        }
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
