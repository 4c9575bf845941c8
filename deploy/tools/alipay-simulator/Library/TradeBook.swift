import Alipay
import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceKit
import ServiceLifecycle
import Signing

/// The simulator's in-memory trade book (a simulator has no database of its own), and the
/// faults tests asked for. Every decision that reads and changes a trade is one actor call, so
/// concurrent calls (a close racing a payment, a refund retried) see one order.
actor TradeBook {
    private var trades: [String: SimulatedTrade] = [:]
    private var sequence = 0
    /// Gateway method → how many of its next calls answer Alipay's system error.
    private var faults: [String: Int] = [:]

    enum Payment: Sendable {
        case unknown
        /// Closed (by merchant, by expiry, or fully refunded): not payable.
        case closed(SimulatedTrade)
        case paid(SimulatedTrade)
    }

    enum Closing: Sendable {
        case unknown
        case closed(SimulatedTrade)
        /// Not waiting for payment (already closed, or paid).
        case refused(SimulatedTrade)
    }

    /// Opens the trade (or returns the one already open under that out_trade_no, unchanged).
    /// A trade whose `expiresAt` has already passed is opened closed.
    func open(outTradeNo: String, totalAmount: String, subject: String, notifyURL: String, returnURL: String, passback: String?, expiresAt: Date?, now: Date = Date()) -> SimulatedTrade {
        if let existing = current(outTradeNo, now: now) { return existing }
        sequence += 1
        let trade = SimulatedTrade(
            outTradeNo: outTradeNo, totalAmount: totalAmount, subject: subject, notifyURL: notifyURL, returnURL: returnURL,
            passbackParams: passback, tradeNo: String(format: "2026%010d%014d", Int(now.timeIntervalSince1970) % 10_000_000_000, sequence),
            status: "WAIT_BUYER_PAY", createdAt: now, paidAt: nil, expiresAt: expiresAt, notifyAttempts: 0, notifyDelivered: false,
            refunds: [], refundedAmount: Cents.text(0))
        trades[outTradeNo] = trade
        return current(outTradeNo, now: now) ?? trade
    }

    func pay(_ outTradeNo: String, now: Date = Date()) -> Payment {
        guard var trade = current(outTradeNo, now: now) else { return .unknown }
        switch trade.status {
        case "WAIT_BUYER_PAY":
            trade.status = "TRADE_SUCCESS"
            trade.paidAt = now
            trades[outTradeNo] = trade
            return .paid(trade)
        case "TRADE_CLOSED":
            return .closed(trade)
        default:
            // Paying twice changes nothing; the caller sends the notify again, as a real
            // cashier's second visit would show the same paid trade.
            return .paid(trade)
        }
    }

    func trade(_ outTradeNo: String, now: Date = Date()) -> SimulatedTrade? { current(outTradeNo, now: now) }

    /// A trade by Alipay's trade_no or the merchant's out_trade_no; trade_no wins when both are
    /// given, as Alipay documents.
    func trade(outTradeNo: String?, tradeNo: String?, now: Date = Date()) -> SimulatedTrade? {
        key(outTradeNo: outTradeNo, tradeNo: tradeNo).flatMap { current($0, now: now) }
    }

    /// `alipay.trade.close`: only a trade still waiting for payment closes.
    func close(outTradeNo: String?, tradeNo: String?, now: Date = Date()) -> Closing {
        guard let key = key(outTradeNo: outTradeNo, tradeNo: tradeNo), var trade = current(key, now: now) else { return .unknown }
        guard trade.status == "WAIT_BUYER_PAY" else { return .refused(trade) }
        trade.status = "TRADE_CLOSED"
        trades[key] = trade
        return .closed(trade)
    }

    /// `alipay.trade.refund`, checked in this order: the trade, its payment, the amount,
    /// a repeated `out_request_no` (answered from the record, never refunded twice), what is
    /// left. A missing `out_request_no` is the out_trade_no (Alipay's default: one full refund).
    func refund(outTradeNo: String?, tradeNo: String?, amount: String?, outRequestNo: String?, reason: String?, now: Date = Date()) -> RefundOutcome {
        guard let key = key(outTradeNo: outTradeNo, tradeNo: tradeNo), var trade = current(key, now: now) else { return .unknownTrade }
        guard trade.paidAt != nil, let paid = Cents.parse(trade.totalAmount) else { return .notPaid(trade) }
        guard let amount, let cents = Cents.parse(amount), cents > 0 else { return .invalidAmount(trade) }
        let requestNo = outRequestNo.flatMap { $0.isEmpty ? nil : $0 } ?? trade.outTradeNo
        if let index = trade.refunds.firstIndex(where: { $0.outRequestNo == requestNo }) {
            return .repeated(trade, trade.refunds[index], refundFee: Cents.text(Self.sum(trade.refunds[...index])))
        }
        let refunded = Self.sum(trade.refunds[...])
        guard cents <= paid - refunded else { return .exceeds(trade) }
        let refund = SimulatedRefund(outRequestNo: requestNo, amount: Cents.text(cents), at: now, reason: reason, notifyAttempts: 0, notifyDelivered: false)
        trade.refunds.append(refund)
        trade.refundedAmount = Cents.text(refunded + cents)
        // Alipay: a fully refunded trade is closed.
        if refunded + cents == paid { trade.status = "TRADE_CLOSED" }
        trades[key] = trade
        return .refunded(trade, refund, refundFee: trade.refundedAmount)
    }

    /// One delivery attempt of a notify: the payment's (`refund` nil) or that refund's.
    func attempted(_ outTradeNo: String, refund outRequestNo: String?, delivered: Bool) {
        guard var trade = trades[outTradeNo] else { return }
        if let outRequestNo {
            guard let index = trade.refunds.firstIndex(where: { $0.outRequestNo == outRequestNo }) else { return }
            trade.refunds[index].notifyAttempts += 1
            if delivered { trade.refunds[index].notifyDelivered = true }
        } else {
            trade.notifyAttempts += 1
            if delivered { trade.notifyDelivered = true }
        }
        trades[outTradeNo] = trade
    }

    /// The next `times` calls of `method` answer a system error (0 clears).
    func failNext(_ method: String, times: Int) {
        faults[method] = times > 0 ? times : nil
    }

    /// Whether this call of `method` is one that must fail; counts it.
    func takeFault(_ method: String) -> Bool {
        guard let left = faults[method], left > 0 else { return false }
        faults[method] = left > 1 ? left - 1 : nil
        return true
    }

    /// The trade under `key`, closed first if it waited past its `expiresAt` (Alipay closes an
    /// unpaid trade at its time_expire; the simulator notices on the next look).
    private func current(_ key: String, now: Date) -> SimulatedTrade? {
        guard var trade = trades[key] else { return nil }
        if trade.status == "WAIT_BUYER_PAY", let expiresAt = trade.expiresAt, now >= expiresAt {
            trade.status = "TRADE_CLOSED"
            trades[key] = trade
        }
        return trade
    }

    private func key(outTradeNo: String?, tradeNo: String?) -> String? {
        if let tradeNo, !tradeNo.isEmpty { return trades.first { $0.value.tradeNo == tradeNo }?.key }
        if let outTradeNo, !outTradeNo.isEmpty, trades[outTradeNo] != nil { return outTradeNo }
        return nil
    }

    /// Fen refunded by `refunds` (amounts the book itself wrote, so they parse).
    private static func sum(_ refunds: ArraySlice<SimulatedRefund>) -> Int {
        refunds.reduce(0) { $0 + (Cents.parse($1.amount) ?? 0) }
    }
}
