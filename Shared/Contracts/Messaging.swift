/// Exchange, queue and routing-key names shared by every service (docs/ARCHITECTURE.md, "AMQP topology").
package enum Messaging {
    /// The topic exchange all business messages go through.
    package static let exchange = "ORDER-EXCHANGE"
    /// Where consumers put what they cannot process; bound to `<queue>.dlq` by the queue's name.
    package static let deadLetterExchange = "ORDER-DLX"

    /// One business route: routing key, the queue it lands in, its consumer.
    package struct Route: Sendable, Hashable {
        package let routingKey: String
        package let queue: String
        /// What a message id on this route starts with (the routing key, but one prefix for
        /// every close timer whatever its delay).
        package let idPrefix: String
        package var deadLetterQueue: String { queue + ".dlq" }

        package init(routingKey: String, queue: String, idPrefix: String? = nil) {
            self.routingKey = routingKey
            self.queue = queue
            self.idPrefix = idPrefix ?? routingKey
        }

        /// The one way a message id is made: one id per order and route, so announcing the same
        /// effect twice is one message (the outbox ignores the second enqueue, and consumers see
        /// a repeat as a redelivery).
        package func messageID(orderSn: String) -> String { "\(idPrefix):\(orderSn)" }

        /// What the id of a message for a batch of orders starts with; the batch's first order
        /// number (in text order) completes it. An order is made once, so it is the first of one
        /// batch at most, and a repeat of a batch that made nothing writes nothing.
        package var batchIDPrefix: String { "\(idPrefix).batch:" }
    }

    /// `order.pay` {orderSn}: payment settled → oms.
    package static let orderPay = Route(routingKey: "order.pay", queue: "ORDER-PAY-QUEUE")
    /// `stock.minus` {orderSn}: order paid → wms turns the lock into a sale.
    package static let stockMinus = Route(routingKey: "stock.minus", queue: "STOCK-MINUS-QUEUE")
    /// `bound.plus` {orderSn,userId,integration,growth}: order paid → points ledger.
    package static let boundPlus = Route(routingKey: "bound.plus", queue: "BOUND-PLUS-QUEUE")
    /// `sec.kill` {orderSn,skuId,userId,count,price,sessionId}: a flash-sale win → oms creates the order.
    package static let secKill = Route(routingKey: "sec.kill", queue: "SEC-KILL-QUEUE")
    /// `order.close` {orderSn}: an order's payment timeout elapsed → oms closes it if unpaid.
    package static let orderClose = Route(routingKey: "order.close", queue: "ORDER-CLOSE-QUEUE")
    /// `stock.unlock` {orderSn}: an order closed → wms releases its stock lock.
    package static let stockUnlock = Route(routingKey: "stock.unlock", queue: "STOCK-UNLOCK-QUEUE")
    /// `sec.release` {orderSn,skuId,userId,count,sessionId,restock}: a flash-sale win ends without a
    /// paid order → seckill releases it and (unless `restock` is false) returns the permit.
    package static let secRelease = Route(routingKey: "sec.release", queue: "SEC-RELEASE-QUEUE")

    /// `order.create.<N>s` {orderSn}: parked in `ORDER-DELAY-<N>s`, a queue whose messages all
    /// live N seconds (`x-message-ttl`); on expiry the broker dead-letters them to `order.close`.
    /// One queue per timeout: with per-message TTLs in one queue, a short timer would wait behind
    /// a longer one at the head (the broker only expires the head).
    package static func orderDelay(seconds: Int) -> Route {
        Route(routingKey: "order.create.\(seconds)s", queue: "ORDER-DELAY-\(seconds)s", idPrefix: "order.create")
    }

    /// `trade.close` {orderSn}: an unpaid order closed → payment closes its Alipay trade (if one was opened).
    package static let tradeClose = Route(routingKey: "trade.close", queue: "TRADE-CLOSE-QUEUE")
    /// `payment.refund` {orderSn,amount,reason}: money for the order goes back → payment records
    /// the refund and drives it with Alipay until confirmed. One refund per order (full refunds).
    package static let paymentRefund = Route(routingKey: "payment.refund", queue: "PAYMENT-REFUND-QUEUE")
    /// `bound.minus` {orderSn,userId,integration,growth}: a refunded order's points are taken back, once.
    package static let boundMinus = Route(routingKey: "bound.minus", queue: "BOUND-MINUS-QUEUE")
    /// `stock.return` {orderSn}: a refunded order's sold stock goes back to the warehouse, once.
    package static let stockReturn = Route(routingKey: "stock.return", queue: "STOCK-RETURN-QUEUE")

    /// Every consumed route (each gets a dead-letter queue).
    package static let consumed: [Route] = [
        orderPay, stockMinus, boundPlus, secKill, orderClose, stockUnlock, secRelease, tradeClose, paymentRefund, boundMinus, stockReturn,
    ]
}
