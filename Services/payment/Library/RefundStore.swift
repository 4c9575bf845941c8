import Contracts

/// The refund ledger (`payment_refund`): one row per refund request, driven to a final state.
/// `PostgresRefundStore` is the implementation.
package protocol RefundStore: Sendable {
    /// Records a refund of `amount` for a paid payment, once per request number.
    func record(outTradeNo: String, outRequestNo: String, amount: Money, reason: RefundReason) async throws -> RefundRecordOutcome

    /// Ids of refunds whose next try is due, oldest first.
    func due(limit: Int) async throws -> [Int64]

    /// Runs `ask` for refund `id` under its row lock (skipped, answering false, if it is not due
    /// any more or another instance holds it) and writes the step `ask` returns.
    func advance(id: Int64, _ ask: @Sendable (RefundRecord) async throws -> RefundStep) async throws -> Bool

    /// How many refunds are not final yet, and the age in seconds of the oldest (0 when none).
    func pending() async throws -> (count: Int, oldestAgeSeconds: Double)
}

/// What recording a refund request came to.
package enum RefundRecordOutcome: Sendable, Equatable {
    case recorded
    /// The request number was recorded before: nothing new.
    case repeated
    /// No paid payment for the order (yet).
    case notPaid
}
