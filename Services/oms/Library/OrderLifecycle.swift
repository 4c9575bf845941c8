import Contracts

/// The order state machine, pure. `OrderMessageHandlers` applies a move with one guarded UPDATE
/// (`WHERE status = from`), so the common case is one statement; only when that moves nothing
/// does it read the status and ask `missed` what the event means now.
package enum OrderLifecycle {
    /// The move an event makes.
    package static func move(_ event: OrderEvent) -> (from: OrderStatus, to: OrderStatus) {
        switch event {
        case .paid: (.unpaid, .paid)
        case .paymentTimedOut: (.unpaid, .closed)
        // Only an order paid and not yet shipped is refunded here: its stock is still in the warehouse.
        case .refundedByOperator: (.paid, .refunded)
        }
    }

    /// What an event whose move did not apply means for an order in `status` (nil: no such order).
    package static func missed(_ event: OrderEvent, status: OrderStatus?) -> OrderMiss {
        switch (event, status) {
        // The payment's evidence is real: the order must exist (sec.kill not handled yet) — try later.
        case (.paid, nil): .notYetThere
        // Money arrived for an order already closed (its stock released): it must go back.
        case (.paid, .closed?): .paidAfterClose
        // A repeat, or an order past unpaid: nothing more to do.
        case (.paid, _?): .nothing
        // A timer for an order paid, closed already, or never made: nothing to close.
        case (.paymentTimedOut, _): .nothing
        case (.refundedByOperator, nil): .missing
        // A second request for a refunded order: a no-op that answers the first result.
        case (.refundedByOperator, .refunded?): .alreadyDone
        case (.refundedByOperator, let status?): .notAllowed(status)
        }
    }
}
