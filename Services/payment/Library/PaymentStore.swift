import Contracts
import Logging

/// What payment needs from storage: the payment rows, settling evidence under a row lock, and
/// the active query's turns. `PostgresPaymentStore` is the implementation (`guli_payment`).
package protocol PaymentStore: Sendable {
    /// The payment row for an order, created on first use. A double click, or two instances
    /// racing, reuse the one row (`out_trade_no` is unique).
    func record(order: OrderEntity, subject: String) async throws -> PaymentRecord

    func find(outTradeNo: String) async throws -> PaymentRecord?

    /// Decides with `rules` and applies the decision under the payment's row lock, in one
    /// transaction with the notification record and the `order.pay` outbox row. Throws the
    /// refusal when the decision is `.refuse`.
    func settle(_ evidence: PaymentEvidence, rules: SettlementRules, logger: Logger) async throws -> SettlementResult

    /// Unpaid payments older than `minAgeSeconds` (and younger than a day), least recently queried first.
    func unpaidPayments(olderThanSeconds minAgeSeconds: Int, limit: Int) async throws -> [String]

    /// Runs `ask` for an unpaid payment under its row lock (skipped, answering nil, if it was paid
    /// meanwhile or another instance holds it) and settles the evidence `ask` returns in the
    /// same transaction.
    func settleUnpaid(
        outTradeNo: String, rules: SettlementRules, logger: Logger,
        ask: @Sendable (PaymentRecord) async throws -> PaymentEvidence?
    ) async throws -> SettlementResult?

    /// The payment's Alipay trade was closed unpaid (its order closed): the active query leaves it.
    func markClosed(outTradeNo: String) async throws

    /// Ends a payment's turn in the active query, answered or not.
    func markQueried(outTradeNo: String) async throws
}
