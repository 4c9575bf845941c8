import AMQP
import Alipay
import Contracts
import Foundation
import Logging
import ServiceKit
import ServiceLifecycle

/// Drives every refund to a final state without an operator. `payment.refund` records the
/// request (`requested`); `run` then sends `alipay.trade.refund` and confirms it with
/// `alipay.trade.fastpay.refund.query`, each under the refund's row lock (so several instances
/// never send one refund at once), trying again after a growing wait while Alipay is busy or
/// unreachable (`RefundProgress`). A verified refund notify confirms it too (`PaymentStore.settle`).
/// A `Service`.
package final class RefundJob: Service, Sendable {
    let store: any RefundStore
    let gateway: AlipayGateway
    let base: Duration
    let logger: Logger
    private let wakeups: Wakeups

    package init(store: any RefundStore, gateway: AlipayGateway, base: Duration, logger: Logger) {
        self.store = store
        self.gateway = gateway
        self.base = base
        self.logger = logger
        // Refunds come due `base` after a try at the soonest: looking more often finds nothing.
        wakeups = Wakeups(every: min(base, .seconds(5)))
        _ = (Self.finished, Self.pendingGauge, Self.oldestPending)  // exported (at zero) from the start
    }

    /// Asks the job to look now (a refund was just recorded).
    package func wake() { wakeups.wake() }

    /// `payment.refund`: records the refund of an order's payment, once per order.
    package func requested(_ delivery: AMQPDelivery) async throws -> AMQPOutcome {
        guard let m = try? delivery.decode(RefundRequest.self), (try? Input.orderNumber(m.orderSn)) != nil, m.amount.amount > 0,
              m.amount.rounded(scale: 2) == m.amount
        else { return .deadLetter(reason: "malformed payment.refund payload") }
        guard let outRequestNo = RefundRecord.requestNumber(orderSn: m.orderSn) else {
            return .deadLetter(reason: "order number \(m.orderSn) too long for an Alipay refund request number")
        }
        switch try await store.record(outTradeNo: m.orderSn, outRequestNo: outRequestNo, amount: m.amount, reason: m.reason) {
        case .recorded:
            logger.info("payment.refund.recorded", metadata: [
                "payment.out_trade_no": "\(m.orderSn)", "refund.out_request_no": "\(outRequestNo)", "refund.amount": "\(m.amount.yuan)",
                "refund.reason": "\(m.reason.rawValue)",
            ])
            wake()
            return .ack
        case .repeated:
            return .ack
        case .notPaid:
            // The order was paid (oms says so): the payment's settlement is on its way.
            return .retry(reason: "no paid payment for order \(m.orderSn) yet")
        }
    }

    package func run() async throws {
        await wakeups.run {
            do {
                try await sweep()
            } catch {
                logger.warning("payment.refund.sweep_failed", error: error)
            }
        }
    }

    /// `gmall_refunds_total{outcome}` (confirmed, refused: final states reached), and the gauges
    /// of refunds still on their way.
    static let finished: [RefundState: ShopCounter] = [
        .confirmed: ShopMetrics.counter("gmall_refunds_total", "Refunds that reached a final state, by outcome.", [("outcome", "confirmed")]),
        .refused: ShopMetrics.counter("gmall_refunds_total", "Refunds that reached a final state, by outcome.", [("outcome", "refused")]),
    ]
    static let pendingGauge = ShopMetrics.gauge("gmall_refunds_pending", "Refunds recorded and not yet confirmed or refused by Alipay.")
    static let oldestPending = ShopMetrics.gauge(
        "gmall_refund_oldest_pending_age_seconds", "Age of the oldest refund not yet confirmed or refused (0 when none).")

    /// One pass over the refunds that are due.
    package func sweep() async throws {
        let (count, age) = try await store.pending()
        Self.pendingGauge.set(Int64(count))
        Self.oldestPending.set(age)
        for id in try await store.due(limit: 50) where !Task.isShuttingDownGracefully {
            do {
                _ = try await store.advance(id: id) { refund in try await self.step(refund) }
            } catch {
                logger.warning("payment.refund.step_failed", error: error, metadata: ["refund.id": "\(id)"])
            }
        }
    }

    /// One call to Alipay for `refund`, as its state asks, and the step it leads to.
    func step(_ refund: RefundRecord) async throws -> RefundStep {
        let answer: RefundAnswer
        do {
            switch refund.state {
            case .requested:
                answer = RefundAnswer(refundCall: try await gateway.refund(
                    outTradeNo: refund.outTradeNo, amount: refund.amount, outRequestNo: refund.outRequestNo, reason: refund.reason))
            case .sent:
                answer = RefundAnswer(queryCall: try await gateway.queryRefund(outTradeNo: refund.outTradeNo, outRequestNo: refund.outRequestNo))
            case .confirmed, .refused:
                return RefundStep(state: refund.state, retryAfter: nil, error: refund.lastError)
            }
        } catch let unavailable as AlipayUnavailable {
            answer = .unavailable(unavailable.description)
        }
        let step = RefundProgress.next(refund, answer, base: base)
        let metadata: Logger.Metadata = [
            "payment.out_trade_no": "\(refund.outTradeNo)", "refund.out_request_no": "\(refund.outRequestNo)",
            "refund.state": "\(step.state)", "refund.attempts": "\(refund.attempts + 1)", "error.message": "\(step.error ?? "-")",
        ]
        switch step.state {
        case .confirmed:
            Self.finished[.confirmed]?.increment()
            logger.info("payment.refund.confirmed", metadata: metadata)
        case .refused:
            Self.finished[.refused]?.increment()
            logger.error("payment.refund.refused", metadata: metadata)
        case .requested, .sent:
            if refund.attempts + 1 >= 10 { logger.error("payment.refund.still_pending", metadata: metadata) }
        }
        return step
    }
}
