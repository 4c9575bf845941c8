import Foundation

/// Order status codes (oms_order.status).
package enum OrderStatus: Int, Codable, Sendable {
    case unpaid = 0, paid = 1, shipped = 2, done = 3, closed = 4, invalid = 5
    /// Paid, then refunded in full by an operator: points and stock went back.
    case refunded = 6
}

/// Where an order came from (oms_order.source_type).
package enum OrderSource: Int, Codable, Sendable {
    case normal = 0, flashSale = 1
}

/// One line of an order.
package struct OrderItemEntity: Codable, Sendable, Equatable {
    package var skuId: Int64
    package var skuName: String
    package var skuPrice: Money
    package var skuQuantity: Int

    package init(skuId: Int64, skuName: String, skuPrice: Money, skuQuantity: Int) {
        self.skuId = skuId
        self.skuName = skuName
        self.skuPrice = skuPrice
        self.skuQuantity = skuQuantity
    }
}

/// An order as oms hands it to other services (`GET /oms/order/token/{orderSn}`).
package struct OrderEntity: Codable, Sendable, Equatable {
    package var id: Int64
    package var orderSn: String
    package var userId: Int64
    package var status: OrderStatus
    package var totalAmount: Money
    package var payAmount: Money
    package var integration: Int64
    package var growth: Int64
    /// 0 normal, 1 flash sale.
    package var sourceType: Int
    package var createTime: Date
    /// When the order closes if unpaid; Alipay's trade expires then too (`time_expire`).
    package var payDeadline: Date?
    package var items: [OrderItemEntity]

    package init(id: Int64, orderSn: String, userId: Int64, status: OrderStatus, totalAmount: Money, payAmount: Money, integration: Int64, growth: Int64, sourceType: Int, createTime: Date, payDeadline: Date? = nil, items: [OrderItemEntity]) {
        self.id = id
        self.orderSn = orderSn
        self.userId = userId
        self.status = status
        self.totalAmount = totalAmount
        self.payAmount = payAmount
        self.integration = integration
        self.growth = growth
        self.sourceType = sourceType
        self.createTime = createTime
        self.payDeadline = payDeadline
        self.items = items
    }
}

/// Payment status codes (payment_info.payment_status).
package enum PaymentStatus: Int, Codable, Sendable {
    case unpaid = 0, paid = 1
    /// The Alipay trade was closed unpaid (its order closed): the active query leaves it alone.
    case closed = 2
}
