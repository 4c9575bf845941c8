import Foundation

/// The calls other services (and operators) make to oms, beside the order lookup: bodies and answers.

/// One line of a checkout: what the buyer saw in the cart, price included.
package struct CheckoutLine: Codable, Sendable, Equatable {
    package var skuId: Int64
    package var skuName: String
    package var price: Money
    package var quantity: Int
    package init(skuId: Int64, skuName: String, price: Money, quantity: Int) {
        self.skuId = skuId
        self.skuName = skuName
        self.price = price
        self.quantity = quantity
    }
}

/// `POST /oms/orders` (internal; caller `checkout`): a normal order from a checkout. The order
/// token makes the call idempotent: the same token again answers the same order (or the same
/// refusal), never a second one.
package struct CheckoutOrderRequest: Codable, Sendable, Equatable {
    package var orderToken: String
    package var memberId: Int64
    package var items: [CheckoutLine]
    /// Σ price × quantity, to the cent.
    package var totalAmount: Money
    /// What the buyer pays: the total (this suite has no coupons or freight).
    package var payAmount: Money

    package init(orderToken: String, memberId: Int64, items: [CheckoutLine], totalAmount: Money, payAmount: Money) {
        self.orderToken = orderToken
        self.memberId = memberId
        self.items = items
        self.totalAmount = totalAmount
        self.payAmount = payAmount
    }

    /// The documented limits, and the amounts checked to the cent: each price 0.01…1,000,000.00
    /// yuan in cents, the total exactly Σ price × quantity, the pay amount exactly the total.
    package func validate() throws(InputError) {
        try Input.key(orderToken, "orderToken")
        try Input.id(memberId, "memberId")
        guard InputLimits.items.contains(items.count) else {
            throw InputError("items must hold \(InputLimits.items.lowerBound)...\(InputLimits.items.upperBound) lines")
        }
        var total = Money(0)
        for line in items {
            try Input.id(line.skuId, "skuId")
            try Input.text(line.skuName, "skuName")
            try Input.count(line.quantity, "quantity")
            guard line.price.amount >= Decimal(string: "0.01")!, line.price.amount <= 1_000_000, line.price.rounded(scale: 2) == line.price else {
                throw InputError("price of sku \(line.skuId) must be 0.01...1000000.00 yuan, in cents")
            }
            total = total + line.price * line.quantity
        }
        guard totalAmount == total else { throw InputError("totalAmount \(totalAmount.yuan) is not the sum of the lines, \(total.yuan)") }
        // Alipay's ceiling for one trade: an order above it could never be paid, only hold stock.
        guard totalAmount.amount <= 100_000_000 else { throw InputError("totalAmount must be at most 100000000.00 yuan (Alipay's limit for one trade)") }
        guard payAmount == totalAmount else { throw InputError("payAmount \(payAmount.yuan) must equal totalAmount \(totalAmount.yuan)") }
    }
}

/// `POST /oms/admin/orders/{orderSn}/refund` (internal; admin token) answer: the order refunded in
/// full. A second request answers the first one's result.
package struct OrderRefund: Codable, Sendable, Equatable {
    package var orderSn: String
    package var status: OrderStatus
    package var amount: Money
    package var refundedAt: Date
    package init(orderSn: String, status: OrderStatus, amount: Money, refundedAt: Date) {
        self.orderSn = orderSn
        self.status = status
        self.amount = amount
        self.refundedAt = refundedAt
    }
}
