import Contracts

/// Which orders of a batch get a lock carved from a reservation: the decision of
/// `POST /wms/reservations/{key}/locks`, apart from its I/O. Orders are served in the order
/// they came; one that does not fit is refused on its own and a later, smaller one may still
/// fit (each order all or nothing, none waits for another).
struct ReservationCarving: Equatable {
    /// The reservation as read under its row lock: nil when there is none.
    struct Reservation: Equatable {
        var skuId: Int64
        var remaining: Int
        var released: Bool
    }

    /// Each order's answer, in the request's order.
    private(set) var answers: [ReservationLockAnswer] = []
    /// The orders to carve now (no lock yet, and they fit).
    private(set) var carved: [ReservationLock] = []
    /// Units carved in all.
    private(set) var units = 0

    /// `existing`: orders that hold locks already, and whether any of them was released.
    init(_ orders: [ReservationLock], from reservation: Reservation?, existing: [String: Bool]) {
        var left = reservation.map { $0.released ? 0 : $0.remaining } ?? 0
        for order in orders {
            let outcome: ReservationLockAnswer.Outcome
            if let released = existing[order.orderSn] {
                outcome = released ? .released : .locked  // a repeat finds its lock
            } else if let reservation, order.skuId == reservation.skuId, order.count <= left {
                left -= order.count
                units += order.count
                carved.append(order)
                outcome = .locked
            } else {
                outcome = .shortage
            }
            answers.append(ReservationLockAnswer(orderSn: order.orderSn, outcome: outcome))
        }
    }
}
