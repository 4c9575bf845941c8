import AMQP
import Alipay
import Contracts
import Foundation
import Logging
import ServiceKit

/// What an `alipay.trade.close` answer means (pure).
package enum TradeCloseStep: Sendable, Equatable {
    /// The trade can no longer be paid: closed now.
    case closed
    /// Alipay has no such trade: the buyer has not logged in at the cashier yet. Alipay creates
    /// page-pay trades then, so a buyer holding the cashier page could still pay until
    /// `time_expire` (an operator's close comes before it): the payment stays unpaid, and the
    /// active query keeps asking about it; money found goes back through the order flow.
    case notOpened
    /// Alipay refused because the trade is not waiting for payment: paid, or closed already. Ask
    /// it which (a paid one is settled, and its closed order refunds it).
    case askStatus
    /// Alipay was busy, or said something unexpected: try again later.
    case retry(String)

    package init(_ answer: AlipayAnswer) {
        switch (answer.code, answer.subCode) {
        case ("10000", _): self = .closed
        case ("40004", "ACQ.TRADE_NOT_EXIST"?): self = .notOpened
        case ("40004", "ACQ.TRADE_STATUS_ERROR"?), ("40004", "ACQ.TRADE_HAS_CLOSE"?): self = .askStatus
        default: self = .retry("\(answer.code) \(answer.subCode ?? "-")")
        }
    }
}

/// `trade.close`: oms closed an unpaid order; its Alipay trade is closed too, where a payment row
/// says the buyer opened the cashier. A payment that beat the close is settled (and refunded by
/// the order flow), never lost.
package struct TradeClosing: Sendable {
    let store: any PaymentStore
    let gateway: AlipayGateway
    let query: ActiveQueryJob
    let logger: Logger

    package func tradeClose(_ delivery: AMQPDelivery) async throws -> AMQPOutcome {
        guard let m = try? delivery.decode(OrderRef.self), (try? Input.orderNumber(m.orderSn)) != nil else {
            return .deadLetter(reason: "malformed trade.close payload")
        }
        // No row: the buyer never opened the cashier, so no trade exists.
        guard let payment = try await store.find(outTradeNo: m.orderSn), payment.status == .unpaid else { return .ack }
        let answer: AlipayAnswer
        do {
            answer = try await gateway.closeTrade(outTradeNo: m.orderSn)
        } catch let unavailable as AlipayUnavailable {
            return .retry(reason: unavailable.description)
        }
        switch TradeCloseStep(answer) {
        case .closed:
            try await store.markClosed(outTradeNo: m.orderSn)
            logger.info("payment.trade.closed", metadata: ["payment.out_trade_no": "\(m.orderSn)", "alipay.sub_code": "\(answer.subCode ?? "-")"])
            return .ack
        case .notOpened:
            logger.info("payment.trade.not_opened", metadata: ["payment.out_trade_no": "\(m.orderSn)"])
            return .ack
        case .askStatus:
            let trade = try await gateway.queryTrade(outTradeNo: m.orderSn)
            switch trade.tradeStatus {
            case "TRADE_SUCCESS", "TRADE_FINISHED":
                // Paid before the close reached Alipay: settle it like a notify (with this answer:
                // no second query); oms finds the order closed and asks for the refund.
                let result = try await query.settle(trade, outTradeNo: m.orderSn)
                if result == .paid { query.relay.wake() }
                logger.warning("payment.trade.paid_before_close", metadata: ["payment.out_trade_no": "\(m.orderSn)", "payment.result": "\(result.map { "\($0)" } ?? "-")"])
                return .ack
            case "TRADE_CLOSED":
                try await store.markClosed(outTradeNo: m.orderSn)
                return .ack
            default:
                return .retry(reason: "trade \(m.orderSn) is \(trade.tradeStatus ?? trade.code) after a refused close")
            }
        case .retry(let why):
            return .retry(reason: why)
        }
    }
}
