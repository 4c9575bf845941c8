import Foundation
import Logging
import Postgres
import ServiceKit
import ServiceLifecycle

/// When no notify came: asks `alipay.trade.query` about payments unpaid past `minAge` (and
/// younger than a day) and settles paid ones through the same code as a notify. Payments take
/// turns, least recently queried first, so abandoned ones never starve a new one. Each payment is
/// handled under its row lock (`FOR UPDATE SKIP LOCKED`), so several instances never query or
/// settle the same payment at once. A `Service`.
package final class ActiveQueryJob: Service, Sendable {
    let ledger: PaymentLedger
    let gateway: AlipayGateway
    let interval: Duration
    let minAge: Duration
    let relay: OutboxRelay
    let logger: Logger

    package init(ledger: PaymentLedger, gateway: AlipayGateway, interval: Duration, minAge: Duration, relay: OutboxRelay, logger: Logger) {
        self.ledger = ledger
        self.gateway = gateway
        self.interval = interval
        self.minAge = minAge
        self.relay = relay
        self.logger = logger
    }

    package func run() async throws {
        while !Task.isShuttingDownGracefully {
            do {
                let settled = try await cancelWhenGracefulShutdown { try await self.sweep() }
                if settled > 0 { logger.info("payment.query.settled", metadata: ["payment.count": "\(settled)"]) }
            } catch {
                logger.warning("payment.query.failed", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
        }
    }

    /// One pass over the candidates; returns how many became paid.
    @discardableResult
    package func sweep() async throws -> Int {
        let seconds = Int(minAge.components.seconds)
        let candidates = try await ledger.postgres.query("""
            SELECT out_trade_no FROM payment_info
            WHERE payment_status = 0 AND create_time < now() - make_interval(secs => \(seconds))
              AND create_time > now() - interval '1 day'
            ORDER BY last_queried_at NULLS FIRST, create_time LIMIT 100
            """).rows.map { try $0.decode("out_trade_no", as: String.self) }
        var paid = 0
        for outTradeNo in candidates where !Task.isShuttingDownGracefully {
            do {
                if try await check(outTradeNo: outTradeNo) == .paid { paid += 1 }
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                logger.warning("payment.query.check_failed", metadata: ["payment.out_trade_no": "\(outTradeNo)", "error": "\(error)"])
            }
            // Its turn is over, answered or not: the next sweep starts with the others.
            try await ledger.postgres.query("UPDATE payment_info SET last_queried_at = now() WHERE out_trade_no = \(outTradeNo)")
        }
        if paid > 0 { relay.wake() }
        return paid
    }

    /// Queries one payment under its row lock and settles it if Alipay says it is paid.
    package func check(outTradeNo: String) async throws -> SettlementResult? {
        try await ledger.postgres.withTransaction { connection in
            let locked = try await connection.query("""
                SELECT id FROM payment_info WHERE out_trade_no = \(outTradeNo) AND payment_status = 0 FOR UPDATE SKIP LOCKED
                """).rows
            guard !locked.isEmpty else { return nil }  // paid meanwhile, or another instance has it
            let result = try await gateway.queryTrade(outTradeNo: outTradeNo)
            guard result.code == "10000", let status = result.tradeStatus, let amount = result.totalAmount else {
                logger.debug("payment.query.not_paid", metadata: ["payment.out_trade_no": "\(outTradeNo)", "alipay.code": "\(result.code)", "alipay.sub_code": "\(result.subCode ?? "-")"])
                return nil
            }
            guard result.outTradeNo == nil || result.outTradeNo == outTradeNo else {
                throw PaymentRefusal("query answered for \(result.outTradeNo ?? "-")")
            }
            let evidence = PaymentEvidence(
                source: .query, outTradeNo: outTradeNo, tradeStatus: status, totalAmount: amount, tradeNo: result.tradeNo,
                appID: nil, sellerID: nil, notifyID: nil, refundFee: nil, content: result.rawResponse)
            return try await ledger.settle(evidence, on: connection, logger: logger)
        }
    }
}
