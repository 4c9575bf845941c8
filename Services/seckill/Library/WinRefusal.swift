import Logging
import Postgres
import ServiceLifecycle
import Synchronization

/// Why PostgreSQL did not take one win (the other wins of its batch are written regardless).
package enum WinRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    /// Another win already has this order number (two instances with one instance id).
    case duplicateOrderNumber
    /// The buyer's wins not released would pass the session's limit (Redis forgot a win).
    case overBuyerLimit
    /// The session's wins not released would pass its stock (Redis forgot wins).
    case soldOut

    package var description: String {
        switch self {
        case .duplicateOrderNumber: "duplicateOrderNumber"
        case .overBuyerLimit: "overBuyerLimit"
        case .soldOut: "soldOut"
        }
    }
}

/// The ledger was shut down before the win could be written.
struct WinLedgerClosed: Error, CustomStringConvertible {
    var description: String { "the win ledger is shut down" }
}
