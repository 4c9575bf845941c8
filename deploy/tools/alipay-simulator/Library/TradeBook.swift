import Alipay
import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceKit
import ServiceLifecycle
import Signing

/// The simulator's in-memory trade book (a simulator has no database of its own).
actor TradeBook {
    private var trades: [String: SimulatedTrade] = [:]
    private var sequence = 0

    func open(outTradeNo: String, totalAmount: String, subject: String, notifyURL: String, returnURL: String, passback: String?) -> SimulatedTrade {
        if let existing = trades[outTradeNo] { return existing }
        sequence += 1
        let trade = SimulatedTrade(
            outTradeNo: outTradeNo, totalAmount: totalAmount, subject: subject, notifyURL: notifyURL, returnURL: returnURL,
            passbackParams: passback, tradeNo: String(format: "2026%010d%014d", Int(Date().timeIntervalSince1970) % 10_000_000_000, sequence),
            status: "WAIT_BUYER_PAY", createdAt: Date(), paidAt: nil, notifyAttempts: 0, notifyDelivered: false)
        trades[outTradeNo] = trade
        return trade
    }

    func pay(_ outTradeNo: String) -> SimulatedTrade? {
        guard var trade = trades[outTradeNo] else { return nil }
        if trade.status == "WAIT_BUYER_PAY" {
            trade.status = "TRADE_SUCCESS"
            trade.paidAt = Date()
            trades[outTradeNo] = trade
        }
        return trade
    }

    func trade(_ outTradeNo: String) -> SimulatedTrade? { trades[outTradeNo] }

    func attempted(_ outTradeNo: String, delivered: Bool) {
        trades[outTradeNo]?.notifyAttempts += 1
        if delivered { trades[outTradeNo]?.notifyDelivered = true }
    }
}
