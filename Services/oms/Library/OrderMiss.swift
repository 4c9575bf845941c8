import Contracts

/// What an event means when its move did not apply.
package enum OrderMiss: Sendable, Equatable {
    case nothing
    /// The order is not there yet: retry the message later.
    case notYetThere
    /// Paid after the order closed: the money goes back (a refund request to payment).
    case paidAfterClose
    /// The event already happened to this order: answer what it came to the first time.
    case alreadyDone
    /// The order is in a status the event cannot move it from.
    case notAllowed(OrderStatus)
    /// No such order.
    case missing
}
