import Contracts

/// What an event means when its move did not apply.
package enum OrderMiss: Sendable, Equatable {
    case nothing
    /// The order is not there yet: retry the message later.
    case notYetThere
    /// Paid after the order closed: record the money as due back.
    case paidAfterClose
}
