/// A business message: every one is about one order, and its id follows from that order and its
/// route (`Messaging.Route.messageID(orderSn:)`).
package protocol OrderMessage: Codable, Sendable {
    var orderSn: String { get }
}

/// `order.pay`: the payment for `orderSn` is settled.
package struct OrderPaid: OrderMessage, Equatable {
    package var orderSn: String
    package init(orderSn: String) { self.orderSn = orderSn }
}

/// `stock.minus`: turn the order's stock lock into a sale.
package struct StockMinus: OrderMessage, Equatable {
    package var orderSn: String
    package init(orderSn: String) { self.orderSn = orderSn }
}

/// `bound.plus` / `bound.minus`: the points an order earned, credited to its member when it is
/// paid and taken back when it is refunded (each once per order).
package struct OrderPoints: OrderMessage, Equatable {
    package var orderSn: String
    package var userId: Int64
    package var integration: Int64
    package var growth: Int64
    package init(orderSn: String, userId: Int64, integration: Int64, growth: Int64) {
        self.orderSn = orderSn
        self.userId = userId
        self.integration = integration
        self.growth = growth
    }
}

/// `sec.kill`: a buyer won a flash-sale permit; oms creates the order.
package struct SeckillWon: OrderMessage, Equatable {
    package var orderSn: String
    package var skuId: Int64
    package var userId: Int64
    package var count: Int
    package var price: Money
    /// The flash-sale session the permit came from.
    package var sessionId: Int64?
    package init(orderSn: String, skuId: Int64, userId: Int64, count: Int, price: Money, sessionId: Int64? = nil) {
        self.orderSn = orderSn
        self.skuId = skuId
        self.userId = userId
        self.count = count
        self.price = price
        self.sessionId = sessionId
    }
}

/// `order.close` / `stock.unlock` / `trade.close` / `stock.return`: an order-scoped signal.
package struct OrderRef: OrderMessage, Equatable {
    package var orderSn: String
    package init(orderSn: String) { self.orderSn = orderSn }
}

/// The close timer of a batch of flash-sale orders made together (`order.create.<N>s`, then
/// `order.close`): one persistent message for the batch instead of one per order. oms writes it
/// in SQL (`{"orderSns":[…]}`), in the statement that makes the orders.
package struct OrderRefs: Codable, Sendable, Equatable {
    package var orderSns: [String]
    package init(orderSns: [String]) { self.orderSns = orderSns }
}

/// `sec.release`: a flash-sale win ends without a paid order (closed unpaid, never created, or
/// refused by the reservation): the win is released and, unless `restock` is false, its permit and
/// the buyer's place go back to the sale.
package struct SeckillRelease: OrderMessage, Equatable {
    package var orderSn: String
    package var skuId: Int64
    package var userId: Int64
    package var count: Int
    package var sessionId: Int64?
    /// False when no unit stands behind the permit (the reservation refused the order).
    package var restock: Bool?
    package init(orderSn: String, skuId: Int64, userId: Int64, count: Int, sessionId: Int64?, restock: Bool? = nil) {
        self.orderSn = orderSn
        self.skuId = skuId
        self.userId = userId
        self.count = count
        self.sessionId = sessionId
        self.restock = restock
    }
}

/// Why money for an order goes back.
package enum RefundReason: String, Codable, Sendable, CaseIterable {
    /// Alipay's money arrived for an order that had already closed (its stock released).
    case closedOrder
    /// An operator refunded a paid order.
    case operatorRefund
}

/// `payment.refund`: refund `amount` of the order's Alipay payment. Idempotent per order: the
/// refund request number is made from the order number.
package struct RefundRequest: OrderMessage, Equatable {
    package var orderSn: String
    package var amount: Money
    package var reason: RefundReason
    package init(orderSn: String, amount: Money, reason: RefundReason) {
        self.orderSn = orderSn
        self.amount = amount
        self.reason = reason
    }
}
