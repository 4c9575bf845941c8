import Alipay
import Contracts
import Foundation
@testable import OrderService
@testable import PaymentService
import Redis
@testable import SeckillService
import Signing
import Testing
@testable import WareService

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

    @Test("waiting and closed notifies are only recorded; refund notifies confirm their refund, never a payment")
    func recordedOnly() {
        #expect(Self.rules.decide(Self.evidence(status: "WAIT_BUYER_PAY"), payment: Self.payment(.unpaid)) == .record("WAIT_BUYER_PAY"))
        #expect(Self.rules.decide(Self.evidence(status: "TRADE_CLOSED"), payment: Self.payment(.unpaid)) == .record("TRADE_CLOSED"))
        var partial = Self.evidence(refundFee: "1.00")
        partial.outBizNo = "RF1"
        #expect(Self.rules.decide(partial, payment: Self.payment(.paid, tradeNo: "T1")) == .recordRefund(outRequestNo: "RF1", refundFee: Money("1.00")))
        var full = Self.evidence(status: "TRADE_CLOSED", refundFee: "88.80")
        full.outBizNo = "RF1"
        #expect(Self.rules.decide(full, payment: Self.payment(.paid, tradeNo: "T1")) == .recordRefund(outRequestNo: "RF1", refundFee: Money("88.80")))
        #expect(Self.rules.decide(Self.evidence(refundFee: "88.80"), payment: Self.payment(.unpaid)) == .recordRefund(outRequestNo: nil, refundFee: Money("88.80")))
    }

    @Test("money for a trade we closed is still settled: its closed order sends it back")
    func paidAfterOurClose() {
        #expect(Self.rules.decide(Self.evidence(), payment: Self.payment(.closed)) == .markPaid)
    }

    @Test("over every combination, a payment is marked paid exactly when all the rules hold")
    func markPaidOnlyWhenEveryRuleHolds() {
        var combinations = 0
        for source in [PaymentEvidence.Source.notify, .query] {
            for appID in ["2021000000000001", "other", nil] as [String?] {
                for sellerID in ["2088000000000001", "other", nil] as [String?] {
                    for payment in [nil, Self.payment(.unpaid), Self.payment(.closed), Self.payment(.paid, tradeNo: "T1")] {
                        for amount in ["88.80", "88.81", "x"] {
                            for status in ["TRADE_SUCCESS", "TRADE_FINISHED", "WAIT_BUYER_PAY", "TRADE_CLOSED", "OTHER"] {
                                for refundFee in [nil, "1.00"] as [String?] {
                                    let evidence = Self.evidence(
                                        source: source, status: status, amount: amount, appID: appID, sellerID: sellerID, refundFee: refundFee)
                                    let rulesHold = (source == .query || appID == "2021000000000001")
                                        && sellerID != "other" && (payment?.status == .unpaid || payment?.status == .closed) && amount == "88.80"
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
        #expect(combinations == 2 * 3 * 3 * 4 * 3 * 5 * 2)
    }

    // MARK: the flash-sale answer

    @Test("each take code ends the attempt with its answer, but a win and a session to load go on")
    func takeAnswers() {
        let expected: [TakeReply.Code: AttemptResult?] = [
            .won: nil, .notLoaded: nil, .soldOut: .soldOut, .overLimit: .alreadyBought, .notStarted: .notStarted,
            .ended: .ended, .rateLimited: .rateLimited(retryAfterMilliseconds: 250),
            .challengeReused: .challengeRefused("the challenge was already used: fetch a new one"),
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

    // MARK: the flash sale's challenge

    static let challenges = FlashSaleChallenge(key: Array("test challenge key 0123456789abcdef".utf8), lifetime: 60)

    /// Finds an answer the way the page does: counting up until the hash has `bits` zero bits.
    static func solve(_ nonce: String, code: String?, bits: Int) -> String {
        var n = 0
        while SHA256.leadingZeroBits(SHA256.digest(Array("\(nonce):\(code ?? ""):\(n)".utf8))) < bits { n += 1 }
        return String(n)
    }

    @Test("a solved challenge passes once per nonce; wrong, forged, someone else's, another session's and expired ones are refused")
    func challengeChecks() throws {
        let now = Date()
        let nonce = Self.challenges.nonce(buyer: 7, session: 3, now: now)
        let answer = Self.solve(nonce, code: "c0de", bits: 10)
        let spent = try Self.challenges.verify(nonce: nonce, answer: answer, buyer: 7, session: 3, code: "c0de", bits: 10, now: now)
        #expect(spent.random.count == 16 && nonce.contains(spent.random))
        #expect(spent.expiresAt.timeIntervalSince(now) > 59 && spent.expiresAt.timeIntervalSince(now) <= 60)
        #expect(spent.markerMilliseconds(now: now) > 119_000 && spent.markerMilliseconds(now: now) <= 120_000)
        func refusal(_ body: () throws -> FlashSaleChallenge.Spent) -> FlashSaleChallenge.Refusal? {
            do { _ = try body(); return nil } catch { return error as? FlashSaleChallenge.Refusal }
        }
        // The answer is bound to the code revealed at the start: without it, no solving ahead.
        #expect(refusal { try Self.challenges.verify(nonce: nonce, answer: answer, buyer: 7, session: 3, code: "other", bits: 10, now: now) } == .tooWeak)
        #expect(refusal { try Self.challenges.verify(nonce: nonce, answer: answer, buyer: 8, session: 3, code: "c0de", bits: 10, now: now) } == .otherBuyer)
        #expect(refusal { try Self.challenges.verify(nonce: nonce, answer: answer, buyer: 7, session: 4, code: "c0de", bits: 10, now: now) } == .otherSession)
        #expect(refusal { try Self.challenges.verify(nonce: nonce, answer: answer, buyer: 7, session: 3, code: "c0de", bits: 10, now: now.addingTimeInterval(61)) } == .expired)
        #expect(refusal { try Self.challenges.verify(nonce: nonce, answer: "", buyer: 7, session: 3, code: "c0de", bits: 10, now: now) } == .malformed)
        let forged = FlashSaleChallenge(key: Array("another key, another shop 0123456".utf8), lifetime: 60).nonce(buyer: 7, session: 3, now: now)
        #expect(refusal { try Self.challenges.verify(nonce: forged, answer: Self.solve(forged, code: "c0de", bits: 10), buyer: 7, session: 3, code: "c0de", bits: 10, now: now) } == .forged)
        var changed = Array(nonce)
        changed[3] = changed[3] == "3" ? "4" : "3"
        #expect(refusal { try Self.challenges.verify(nonce: String(changed), answer: answer, buyer: 7, session: 4, code: "c0de", bits: 10, now: now) } == .forged)
        #expect(refusal { try Self.challenges.verify(nonce: "c1.3.7", answer: answer, buyer: 7, session: 3, code: "c0de", bits: 10, now: now) } == .malformed)
    }

    @Test("the public list shows a session's code only from its start")
    func codeRevealedAtStart() {
        let start = Date(timeIntervalSince1970: 1_000_000)
        let session = FlashSaleSession(
            id: 1, skuId: 2, skuName: "x", price: Money("1.00")!, stock: 1, limit: 1, startTime: start, endTime: start.addingTimeInterval(60),
            reserved: true, released: false, permitsLeft: nil, code: "c0de", challengeBits: 18)
        #expect(session.listed(at: start.addingTimeInterval(-0.001)).code == nil)
        #expect(session.listed(at: start).code == "c0de")
    }

    @Test("SHA-256 is the standard one and zero bits are counted from the first byte")
    func sha256() {
        let abc = SHA256.digest(Array("abc".utf8)).map { String(format: "%02x", $0) }.joined()
        #expect(abc == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.leadingZeroBits([0, 0, 0x1f] + Array(repeating: 0xff, count: 29)) == 19)
        #expect(SHA256.leadingZeroBits([0x80] + Array(repeating: 0, count: 31)) == 0)
    }

    // MARK: the order state machine

    @Test("payment and the timeout each move an unpaid order; an operator's refund moves a paid one")
    func orderMoves() {
        #expect(OrderLifecycle.move(.paid) == (from: .unpaid, to: .paid))
        #expect(OrderLifecycle.move(.paymentTimedOut) == (from: .unpaid, to: .closed))
        #expect(OrderLifecycle.move(.refundedByOperator) == (from: .paid, to: .refunded))
    }

    @Test("a refund that finds the order elsewhere: refunded answers the first result, missing is 404, the rest refused")
    func missedRefund() {
        #expect(OrderLifecycle.missed(.refundedByOperator, status: nil) == .missing)
        #expect(OrderLifecycle.missed(.refundedByOperator, status: .refunded) == .alreadyDone)
        for status in [OrderStatus.unpaid, .shipped, .done, .closed, .invalid] {
            #expect(OrderLifecycle.missed(.refundedByOperator, status: status) == .notAllowed(status))
        }
    }

    // MARK: checkout

    @Test("a token seen before: the same request resumes or answers what it came to; another request is refused")
    func checkoutResume() {
        #expect(Checkout.resume(orderSn: "N1", state: .locking, storedRequest: "a", request: "a") == .lock(orderSn: "N1"))
        #expect(Checkout.resume(orderSn: "N1", state: .placed, storedRequest: "a", request: "a") == .answer(.placed(orderSn: "N1")))
        #expect(Checkout.resume(orderSn: "N1", state: .refused, storedRequest: "a", request: "a") == .answer(.shortage))
        #expect(Checkout.resume(orderSn: "N1", state: .abandoned, storedRequest: "a", request: "a") == .answer(.expired))
        for state in [Checkout.State.locking, .placed, .refused, .abandoned] {
            #expect(Checkout.resume(orderSn: "N1", state: state, storedRequest: "a", request: "b") == .answer(.tokenReused))
        }
    }

    @Test("a checkout's amounts are checked to the cent")
    func checkoutAmounts() throws {
        let lines = [CheckoutLine(skuId: 1, skuName: "耳机", price: Money("0.10")!, quantity: 3), CheckoutLine(skuId: 2, skuName: "线", price: Money("19.99")!, quantity: 1)]
        try CheckoutOrderRequest(orderToken: "t1", memberId: 7, items: lines, totalAmount: Money("20.29")!, payAmount: Money("20.29")!).validate()
        #expect(throws: InputError.self) {
            try CheckoutOrderRequest(orderToken: "t1", memberId: 7, items: lines, totalAmount: Money("20.30")!, payAmount: Money("20.30")!).validate()
        }
        #expect(throws: InputError.self) {
            try CheckoutOrderRequest(orderToken: "t1", memberId: 7, items: lines, totalAmount: Money("20.29")!, payAmount: Money("20.28")!).validate()
        }
        let fraction = [CheckoutLine(skuId: 1, skuName: "x", price: Money(Decimal(string: "0.105")!), quantity: 1)]
        #expect(throws: InputError.self) {
            try CheckoutOrderRequest(orderToken: "t1", memberId: 7, items: fraction, totalAmount: Money(Decimal(string: "0.105")!), payAmount: Money(Decimal(string: "0.105")!)).validate()
        }
        #expect(throws: InputError.self) {
            try CheckoutOrderRequest(orderToken: "t 1", memberId: 7, items: lines, totalAmount: Money("20.29")!, payAmount: Money("20.29")!).validate()
        }
    }

    // MARK: the payment lifecycle

    @Test("the cashier opens only while the order has time left; the trade expires with the order")
    func payWindow() {
        let now = Date(timeIntervalSince1970: 1_000_000)
        var order = OrderEntity(
            id: 1, orderSn: "N1", userId: 1, status: .unpaid, totalAmount: Money("1.00")!, payAmount: Money("1.00")!, integration: 1, growth: 1,
            sourceType: 0, createTime: now.addingTimeInterval(-100), payDeadline: now.addingTimeInterval(600), items: [])
        #expect(PayWindow.decide(order: order, now: now, minimum: 60, fallbackMinutes: 30) == .open(expiresAt: now.addingTimeInterval(600)))
        order.payDeadline = now.addingTimeInterval(59)
        #expect(PayWindow.decide(order: order, now: now, minimum: 60, fallbackMinutes: 30) == .closingSoon(deadline: now.addingTimeInterval(59)))
        order.payDeadline = nil
        #expect(PayWindow.decide(order: order, now: now, minimum: 60, fallbackMinutes: 30) == .open(expiresAt: now.addingTimeInterval(1700)))
    }

    @Test("a close answer: closed is done, not yet created is left to the active query, not waiting for payment is asked about, the rest retried")
    func tradeCloseAnswers() {
        #expect(TradeCloseStep(AlipayAnswer(code: "10000")) == .closed)
        #expect(TradeCloseStep(AlipayAnswer(code: "40004", subCode: "ACQ.TRADE_NOT_EXIST")) == .notOpened)
        #expect(TradeCloseStep(AlipayAnswer(code: "40004", subCode: "ACQ.TRADE_STATUS_ERROR")) == .askStatus)
        #expect(TradeCloseStep(AlipayAnswer(code: "20000", subCode: "isp.unknow-error")) == .retry("20000 isp.unknow-error"))
        #expect(TradeCloseStep(AlipayAnswer(code: "40004", subCode: "ACQ.SYSTEM_ERROR")) == .retry("40004 ACQ.SYSTEM_ERROR"))
    }

    static func refund(_ state: RefundState, attempts: Int = 0) -> RefundRecord {
        RefundRecord(id: 1, outTradeNo: "N1", outRequestNo: "RFN1", amount: Money("88.80")!, reason: "closedOrder", state: state, attempts: attempts)
    }

    @Test("a refund goes requested → sent → confirmed; refusals are final; anything else is tried again later")
    func refundProgress() {
        let base = Duration.seconds(1)
        #expect(RefundProgress.next(Self.refund(.requested), .accepted, base: base) == RefundStep(state: .sent, retryAfter: base))
        #expect(RefundProgress.next(Self.refund(.sent), .found(amount: Money("88.80"), status: "REFUND_SUCCESS"), base: base)
            == RefundStep(state: .confirmed, retryAfter: nil, refundedAmount: Money("88.80")))
        #expect(RefundProgress.next(Self.refund(.sent), .found(amount: Money("88.80"), status: nil), base: base).state == .confirmed)
        #expect(RefundProgress.next(Self.refund(.sent), .found(amount: Money("1.00"), status: nil), base: base).state == .refused)
        #expect(RefundProgress.next(Self.refund(.sent), .notFound, base: base).state == .requested)
        // A refusal is believed only once the query finds no refund (a retried request for a refund
        // that did happen is refused too).
        let refusing = RefundProgress.next(Self.refund(.requested), .refused(subCode: "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", message: "退款金额超限"), base: base)
        #expect(refusing.state == .sent && refusing.retryAfter == base)
        let checked = RefundRecord(
            id: 1, outTradeNo: "N1", outRequestNo: "RFN1", amount: Money("88.80")!, reason: "closedOrder", state: .sent, attempts: 1, lastError: refusing.error)
        let refused = RefundProgress.next(checked, .notFound, base: base)
        #expect(refused.state == .refused && refused.retryAfter == nil && refused.error == "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL 退款金额超限")
        #expect(RefundProgress.next(checked, .found(amount: Money("88.80"), status: "REFUND_SUCCESS"), base: base).state == .confirmed)
        for state in [RefundState.requested, .sent] {
            let busy = RefundProgress.next(Self.refund(state, attempts: 3), .unavailable("20000"), base: base)
            #expect(busy.state == state && busy.retryAfter == .seconds(8))
        }
    }

    @Test("Alipay's answers read as refund answers: system errors are not refusals")
    func refundAnswers() {
        #expect(RefundAnswer(refundCall: AlipayAnswer(code: "10000", fields: ["fund_change": "N"])) == .accepted)
        #expect(RefundAnswer(refundCall: AlipayAnswer(code: "40004", subCode: "ACQ.TRADE_STATUS_ERROR", subMessage: "交易状态不合法"))
            == .refused(subCode: "ACQ.TRADE_STATUS_ERROR", message: "交易状态不合法"))
        #expect(RefundAnswer(refundCall: AlipayAnswer(code: "40004", subCode: "ACQ.SYSTEM_ERROR")) == .unavailable("40004 ACQ.SYSTEM_ERROR"))
        #expect(RefundAnswer(refundCall: AlipayAnswer(code: "40004", subCode: "ACQ.SELLER_BALANCE_NOT_ENOUGH")) == .unavailable("40004 ACQ.SELLER_BALANCE_NOT_ENOUGH"))
        #expect(RefundAnswer(refundCall: AlipayAnswer(code: "20000", subCode: "isp.unknow-error")) == .unavailable("20000 isp.unknow-error"))
        #expect(RefundAnswer(queryCall: AlipayAnswer(code: "10000", fields: ["refund_amount": "88.80", "refund_status": "REFUND_SUCCESS"]))
            == .found(amount: Money("88.80"), status: "REFUND_SUCCESS"))
        #expect(RefundAnswer(queryCall: AlipayAnswer(code: "10000", fields: ["out_trade_no": "N1"])) == .notFound)
    }

    @Test("the wait between tries doubles from the base and stops growing at five minutes")
    func refundBackoff() {
        #expect(RefundProgress.backoff(attempts: 0, base: .seconds(1)) == .seconds(1))
        #expect(RefundProgress.backoff(attempts: 4, base: .seconds(1)) == .seconds(16))
        #expect(RefundProgress.backoff(attempts: 40, base: .seconds(1)) == .seconds(300))
    }

    @Test("one refund request number per order, within Alipay's 64 characters")
    func refundNumbers() {
        #expect(RefundRecord.requestNumber(orderSn: "N202611260000000001") == "RFN202611260000000001")
        #expect(RefundRecord.requestNumber(orderSn: String(repeating: "9", count: 62))?.count == 64)
        #expect(RefundRecord.requestNumber(orderSn: String(repeating: "9", count: 63)) == nil)
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

    @Test("an ended session waiting for its orders is tried at once, then less and less often, and logged only when its count changes")
    func releaseRetry() {
        var retry = ReleaseRetry(shortest: .milliseconds(500), longest: .seconds(4))
        let start = ContinuousClock.now
        #expect(retry.isDue(7, now: start))
        let first = retry.waits(7, wins: 3, now: start)
        #expect(first, "the first wait is logged")
        #expect(!retry.isDue(7, now: start + .milliseconds(499)))
        #expect(retry.isDue(7, now: start + .milliseconds(500)))
        let same = retry.waits(7, wins: 3, now: start + .milliseconds(500))
        #expect(!same, "the same wait again is not")
        #expect(!retry.isDue(7, now: start + .milliseconds(1499)), "the wait doubled")
        var now = start + .milliseconds(1500)
        let fewer = retry.waits(7, wins: 2, now: now)
        #expect(fewer, "one more order came: logged")
        for _ in 0..<10 { now = now + .seconds(10); _ = retry.waits(7, wins: 2, now: now) }
        #expect(retry.isDue(7, now: now + .seconds(4)), "never longer than the longest wait")
        #expect(retry.isDue(8, now: start), "other sessions are not held back")
        retry.released(7)
        #expect(retry.isDue(7, now: start) && retry.sessions.isEmpty)
    }

    // MARK: carving a batch of flash-sale locks from a reservation

    static func lock(_ sn: String, sku: Int64 = 7, count: Int = 1) -> ReservationLock { ReservationLock(orderSn: sn, skuId: sku, count: count) }

    @Test("a batch is carved in arrival order while the reservation lasts; an order that does not fit is refused alone and a smaller later one still fits")
    func carvingInOrder() {
        let orders = [Self.lock("A", count: 2), Self.lock("B", count: 2), Self.lock("C", count: 1)]
        let carving = ReservationCarving(orders, from: .init(skuId: 7, remaining: 3, released: false), existing: [:])
        #expect(carving.answers.map(\.outcome) == [.locked, .shortage, .locked])
        #expect(carving.carved.map(\.orderSn) == ["A", "C"])
        #expect(carving.units == 3)
    }

    @Test("a repeat finds its lock (locked) or its released lock (released) and carves nothing; a released reservation, none at all, or another sku carve nothing")
    func carvingRepeatsAndRefusals() {
        let repeats = ReservationCarving(
            [Self.lock("A"), Self.lock("B"), Self.lock("C")], from: .init(skuId: 7, remaining: 1, released: false), existing: ["A": false, "B": true])
        #expect(repeats.answers.map(\.outcome) == [.locked, .released, .locked])
        #expect(repeats.carved.map(\.orderSn) == ["C"])
        for reservation in [ReservationCarving.Reservation(skuId: 7, remaining: 5, released: true), nil, .init(skuId: 8, remaining: 5, released: false)] {
            let refused = ReservationCarving([Self.lock("D")], from: reservation, existing: [:])
            #expect(refused.answers.map(\.outcome) == [.shortage])
            #expect(refused.carved.isEmpty && refused.units == 0)
        }
    }
}
