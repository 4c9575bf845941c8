import Foundation
import Logging
import ServiceKit
import ServiceLifecycle

/// When no notify came: asks `alipay.trade.query` about payments unpaid past `minAge` (and
/// younger than a day) and settles paid ones through the same code as a notify. Payments take
/// turns, least recently queried first, so abandoned ones never starve a new one. Each payment is
/// handled under its row lock (`FOR UPDATE SKIP LOCKED`), so several instances never query or
/// settle the same payment at once. A `Service`.
package final class ActiveQueryJob: Service, Sendable {
    let store: any PaymentStore
    let rules: SettlementRules
    let gateway: AlipayGateway
    let interval: Duration
    let minAge: Duration
    let relay: OutboxRelay
    let logger: Logger

    package init(store: any PaymentStore, rules: SettlementRules, gateway: AlipayGateway, interval: Duration, minAge: Duration, relay: OutboxRelay, logger: Logger) {
        self.store = store
        self.rules = rules
        self.gateway = gateway
        self.interval = interval
        self.minAge = minAge
        self.relay = relay
        self.logger = logger
    }

    package func run() async throws {
        await Periodic.run(every: interval) {
            do {
                let settled = try await cancelWhenGracefulShutdown { try await self.sweep() }
                if settled > 0 { logger.info("payment.query.settled", metadata: ["payment.count": "\(settled)"]) }
            } catch {
                logger.warning("payment.query.failed", error: error)
            }
        }
    }

    /// One pass over the candidates; returns how many became paid.
    @discardableResult
    package func sweep() async throws -> Int {
        let candidates = try await store.unpaidPayments(olderThanSeconds: Int(minAge.components.seconds), limit: 100)
        var paid = 0
        for outTradeNo in candidates where !Task.isShuttingDownGracefully {
            do {
                if try await check(outTradeNo: outTradeNo) == .paid { paid += 1 }
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                logger.warning("payment.query.check_failed", error: error, metadata: ["payment.out_trade_no": "\(outTradeNo)"])
            }
            // Its turn is over, answered or not: the next sweep starts with the others.
            try await store.markQueried(outTradeNo: outTradeNo)
        }
        if paid > 0 { relay.wake() }
        return paid
    }

    /// Queries one payment under its row lock and settles it if Alipay says it is paid.
    package func check(outTradeNo: String) async throws -> SettlementResult? {
        try await store.settleUnpaid(outTradeNo: outTradeNo, rules: rules, logger: logger) { [gateway, logger] _ in
            try Self.evidence(from: try await gateway.queryTrade(outTradeNo: outTradeNo), outTradeNo: outTradeNo, logger: logger)
        }
    }

    /// Settles one payment, under its row lock, with a query answer the caller already has
    /// (the trade close asked Alipay already).
    package func settle(_ result: AlipayGateway.TradeQueryResult, outTradeNo: String) async throws -> SettlementResult? {
        try await store.settleUnpaid(outTradeNo: outTradeNo, rules: rules, logger: logger) { [logger] _ in
            try Self.evidence(from: result, outTradeNo: outTradeNo, logger: logger)
        }
    }

    /// A query answer as evidence for settlement; nil when it says nothing about a payment.
    static func evidence(from result: AlipayGateway.TradeQueryResult, outTradeNo: String, logger: Logger) throws -> PaymentEvidence? {
        guard result.code == "10000", let status = result.tradeStatus, let amount = result.totalAmount else {
            logger.debug("payment.query.not_paid", metadata: ["payment.out_trade_no": "\(outTradeNo)", "alipay.code": "\(result.code)", "alipay.sub_code": "\(result.subCode ?? "-")"])
            return nil
        }
        guard result.outTradeNo == nil || result.outTradeNo == outTradeNo else {
            throw PaymentRefusal("query answered for \(result.outTradeNo ?? "-")")
        }
        return PaymentEvidence(
            source: .query, outTradeNo: outTradeNo, tradeStatus: status, totalAmount: amount, tradeNo: result.tradeNo,
            appID: nil, sellerID: nil, notifyID: nil, refundFee: nil, content: result.rawResponse)
    }
}
