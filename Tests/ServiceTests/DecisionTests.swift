import Contracts
import Foundation
@testable import OrderService
@testable import PaymentService
import Redis
@testable import SeckillService
import Testing

/// The domain decisions, pure and without servers: what a notify does to a payment, what a buyer
/// hears from a take, how an order moves, how a message is named. The integration suites check
/// that the stores apply them; these check the tables themselves, every row.
@Suite("Decisions")
struct DecisionTests {
    // MARK: notify settlement

    static let rules = SettlementRules(appID: "2021000000000001", sellerID: "2088000000000001")

    static func payment(_ status: PaymentStatus, tradeNo: String? = nil) -> PaymentRecord {
        PaymentRecord(
            id: 1, outTradeNo: "202611260000000001", orderID: 7, userID: 1001, subject: "s", totalAmount: Money("88.80")!,
            status: status, tradeNo: tradeNo, createTime: Date(timeIntervalSince1970: 0))
    }

    static func evidence(
        source: PaymentEvidence.Source = .notify, status: String = "TRADE_SUCCESS", amount: String = "88.80",
        appID: String? = "2021000000000001", sellerID: String? = "2088000000000001", tradeNo: String? = "T1", refundFee: String? = nil
    ) -> PaymentEvidence {
        PaymentEvidence(
            source: source, outTradeNo: "202611260000000001", tradeStatus: status, totalAmount: amount, tradeNo: tradeNo,
            appID: appID, sellerID: sellerID, notifyID: "n1", refundFee: refundFee, content: "{}")
    }

    @Test("a paid notify for an unpaid payment marks it paid; TRADE_FINISHED counts as paid too")
    func paidNotifyMarksPaid() {
        #expect(Self.rules.decide(Self.evidence(), payment: Self.payment(.unpaid)) == .markPaid)
        #expect(Self.rules.decide(Self.evidence(status: "TRADE_FINISHED"), payment: Self.payment(.unpaid)) == .markPaid)
    }

    @Test("a repeat is already paid; another trade for a paid order is named for the operator")
    func repeatIsAlreadyPaid() {
        #expect(Self.rules.decide(Self.evidence(tradeNo: "T1"), payment: Self.payment(.paid, tradeNo: "T1")) == .alreadyPaid(otherTradeNo: nil))
        #expect(Self.rules.decide(Self.evidence(tradeNo: "T2"), payment: Self.payment(.paid, tradeNo: "T1")) == .alreadyPaid(otherTradeNo: "T2"))
    }

    @Test("refusals: another app, another seller, an unknown trade, another amount, an unknown status")
    func refusals() {
        func refused(_ settlement: Settlement) -> Bool { if case .refuse = settlement { true } else { false } }
        #expect(refused(Self.rules.decide(Self.evidence(appID: "2021000000000002"), payment: Self.payment(.unpaid))))
        #expect(refused(Self.rules.decide(Self.evidence(appID: nil), payment: Self.payment(.unpaid))))
        #expect(refused(Self.rules.decide(Self.evidence(sellerID: "2088000000000002"), payment: Self.payment(.unpaid))))
        #expect(refused(Self.rules.decide(Self.evidence(), payment: nil)))
        #expect(refused(Self.rules.decide(Self.evidence(amount: "88.81"), payment: Self.payment(.unpaid))))
        #expect(refused(Self.rules.decide(Self.evidence(amount: "88.8x"), payment: Self.payment(.unpaid))))
        #expect(refused(Self.rules.decide(Self.evidence(status: "TRADE_PENDING"), payment: Self.payment(.unpaid))))
    }

    @Test("an amount written differently but equal to the cent is the same amount")
    func amountToTheCent() {
        #expect(Self.rules.decide(Self.evidence(amount: "88.8"), payment: Self.payment(.unpaid)) == .markPaid)
    }

    @Test("a query answer carries no app_id and is ours; a notify without seller_id is checked on the rest")
    func queryAndMissingSeller() {
        #expect(Self.rules.decide(Self.evidence(source: .query, appID: nil, sellerID: nil), payment: Self.payment(.unpaid)) == .markPaid)
        #expect(Self.rules.decide(Self.evidence(sellerID: nil), payment: Self.payment(.unpaid)) == .markPaid)
    }

    @Test("waiting, closed and refund notifies are only recorded, never a payment")
    func recordedOnly() {
        #expect(Self.rules.decide(Self.evidence(status: "WAIT_BUYER_PAY"), payment: Self.payment(.unpaid)) == .record("WAIT_BUYER_PAY"))
        #expect(Self.rules.decide(Self.evidence(status: "TRADE_CLOSED"), payment: Self.payment(.unpaid)) == .record("TRADE_CLOSED"))
        #expect(Self.rules.decide(Self.evidence(refundFee: "88.80"), payment: Self.payment(.unpaid)) == .record("refund"))
        #expect(Self.rules.decide(Self.evidence(refundFee: "1.00"), payment: Self.payment(.paid, tradeNo: "T1")) == .record("refund"))
    }

    @Test("over every combination, a payment is marked paid exactly when all the rules hold")
    func markPaidOnlyWhenEveryRuleHolds() {
        var combinations = 0
        for source in [PaymentEvidence.Source.notify, .query] {
            for appID in ["2021000000000001", "other", nil] as [String?] {
                for sellerID in ["2088000000000001", "other", nil] as [String?] {
                    for payment in [nil, Self.payment(.unpaid), Self.payment(.paid, tradeNo: "T1")] {
                        for amount in ["88.80", "88.81", "x"] {
                            for status in ["TRADE_SUCCESS", "TRADE_FINISHED", "WAIT_BUYER_PAY", "TRADE_CLOSED", "OTHER"] {
                                for refundFee in [nil, "1.00"] as [String?] {
                                    let evidence = Self.evidence(
                                        source: source, status: status, amount: amount, appID: appID, sellerID: sellerID, refundFee: refundFee)
                                    let rulesHold = (source == .query || appID == "2021000000000001")
                                        && sellerID != "other" && payment?.status == .unpaid && amount == "88.80"
                                        && (status == "TRADE_SUCCESS" || status == "TRADE_FINISHED") && refundFee == nil
                                    #expect((Self.rules.decide(evidence, payment: payment) == .markPaid) == rulesHold)
                                    combinations += 1
                                }
                            }
                        }
                    }
                }
            }
        }
        #expect(combinations == 2 * 3 * 3 * 3 * 3 * 5 * 2)
    }

    // MARK: the flash-sale answer

    @Test("each take code ends the attempt with its answer, but a win and a session to load go on")
    func takeAnswers() {
        let expected: [TakeReply.Code: AttemptResult?] = [
            .won: nil, .notLoaded: nil, .soldOut: .soldOut, .overLimit: .alreadyBought, .notStarted: .notStarted,
            .ended: .ended, .rateLimited: .rateLimited(retryAfterMilliseconds: 250),
        ]
        #expect(Set(expected.keys) == Set(TakeReply.Code.allCases))
        for (code, answer) in expected {
            #expect(TakeReply(code: code, value: 250).answer == answer, "\(code)")
        }
    }

    @Test("the script's reply decodes to a take; an unknown code is an error, not a guess")
    func takeReplyDecoding() throws {
        let won = try TakeReply(.array([.integer(1), .integer(42), .string("9.90")]))
        #expect(won == TakeReply(code: .won, value: 42, price: Money("9.90")))
        #expect(try TakeReply(.array([.integer(0), .string("42")])) == TakeReply(code: .soldOut, value: 42))
        #expect(throws: RedisError.self) { try TakeReply(.array([.integer(7), .integer(42)])) }
        #expect(throws: RedisError.self) { try TakeReply(.integer(1)) }
    }

    @Test("a win PostgreSQL refuses is answered as the buyer's situation, never as success")
    func refusedWins() {
        #expect(AttemptResult(refusal: .overBuyerLimit) == .alreadyBought)
        #expect(AttemptResult(refusal: .soldOut) == .soldOut)
        #expect(AttemptResult(refusal: .duplicateOrderNumber) == .retry)
    }

    // MARK: the order state machine

    @Test("payment and the timeout each move an unpaid order")
    func orderMoves() {
        #expect(OrderLifecycle.move(.paid) == (from: .unpaid, to: .paid))
        #expect(OrderLifecycle.move(.paymentTimedOut) == (from: .unpaid, to: .closed))
    }

    @Test("a payment that finds the order elsewhere: missing is retried, closed is money due back, else nothing")
    func missedPayment() {
        #expect(OrderLifecycle.missed(.paid, status: nil) == .notYetThere)
        #expect(OrderLifecycle.missed(.paid, status: .closed) == .paidAfterClose)
        for status in [OrderStatus.unpaid, .paid, .shipped, .done, .invalid] {
            #expect(OrderLifecycle.missed(.paid, status: status) == .nothing, "\(status)")
        }
        for status in [nil, OrderStatus.unpaid, .paid, .shipped, .done, .closed, .invalid] {
            #expect(OrderLifecycle.missed(.paymentTimedOut, status: status) == .nothing)
        }
    }

    // MARK: message ids

    @Test("a message id is its route and order; every close timer shares one prefix")
    func messageIDs() {
        #expect(Messaging.orderPay.messageID(orderSn: "SN1") == "order.pay:SN1")
        #expect(Messaging.secRelease.messageID(orderSn: "SN1") == "sec.release:SN1")
        #expect(Messaging.orderDelay(seconds: 1800).messageID(orderSn: "SN1") == "order.create:SN1")
        #expect(Messaging.orderDelay(seconds: 1).messageID(orderSn: "SN1") == Messaging.orderDelay(seconds: 1800).messageID(orderSn: "SN1"))
        #expect(Set(Messaging.consumed.map { $0.messageID(orderSn: "SN1") }).count == Messaging.consumed.count)
    }
}
