/// The calls other services make to wms (`WareClient`): bodies and answers.

/// One sku and count to lock.
package struct LockLine: Codable, Sendable, Equatable {
    package var skuId: Int64
    package var count: Int
    package init(skuId: Int64, count: Int) { self.skuId = skuId; self.count = count }
}

/// `POST /wms/lock` body: lock stock for an order, all lines or none.
package struct StockLockRequest: Codable, Sendable, Equatable {
    package var orderSn: String
    package var items: [LockLine]
    /// Carve the lock out of this reservation (a flash-sale session) instead of free stock.
    package var reservationKey: String?
    package init(orderSn: String, items: [LockLine], reservationKey: String? = nil) {
        self.orderSn = orderSn
        self.items = items
        self.reservationKey = reservationKey
    }

    /// The lines merged per sku, in sku order (the order locks are taken in, so concurrent
    /// orders never deadlock); refuses what breaks `InputLimits`, an overflowing sum included.
    package func validated() throws(InputError) -> [LockLine] {
        try Input.orderNumber(orderSn)
        if let reservationKey { try Input.key(reservationKey, "reservationKey") }
        guard InputLimits.items.contains(items.count) else {
            throw InputError("items must hold \(InputLimits.items.lowerBound)...\(InputLimits.items.upperBound) lines")
        }
        var merged: [Int64: Int] = [:]
        for line in items {
            try Input.id(line.skuId, "skuId")
            try Input.count(line.count, "count")
            merged[line.skuId] = try Input.sum([merged[line.skuId] ?? 0, line.count], "count of sku \(line.skuId)")
        }
        for (sku, count) in merged { try Input.count(count, "count of sku \(sku)") }
        return merged.sorted { $0.key < $1.key }.map { LockLine(skuId: $0.key, count: $0.value) }
    }
}

/// `POST /wms/reservations` body.
package struct ReservationRequest: Codable, Sendable, Equatable {
    package var key: String
    package var skuId: Int64
    package var count: Int
    package init(key: String, skuId: Int64, count: Int) { self.key = key; self.skuId = skuId; self.count = count }

    package func validate() throws(InputError) {
        try Input.key(key)
        try Input.id(skuId, "skuId")
        try Input.count(count, "count", in: InputLimits.reservationCount)
    }
}

/// `POST /wms/reservations/{key}/release` body: the caller's count of the reservation's wins that
/// are not released. wms releases the rest only once it holds a lock for each of them, so a win
/// whose order is still being made is never told "sold out" for want of its unit.
package struct ReservationRelease: Codable, Sendable, Equatable {
    package var wins: Int
    package init(wins: Int) { self.wins = wins }

    package func validate() throws(InputError) {
        try Input.count(wins, "wins", in: 0...InputLimits.reservationCount.upperBound)
    }
}

/// A reservation's state.
package struct ReservationState: Codable, Sendable, Equatable {
    package var key: String
    package var skuId: Int64
    package var reserved: Int
    package var remaining: Int
    package var released: Bool
    package init(key: String, skuId: Int64, reserved: Int, remaining: Int, released: Bool) {
        self.key = key
        self.skuId = skuId
        self.reserved = reserved
        self.remaining = remaining
        self.released = released
    }
}

/// `POST /wms/reservations/{key}/locks` body: the locks of several flash-sale orders, each of one
/// line, carved from one reservation in one transaction; each order all or nothing, apart from
/// the others.
package struct ReservationLocks: Codable, Sendable, Equatable {
    package var orders: [ReservationLock]
    package init(orders: [ReservationLock]) { self.orders = orders }

    package func validate() throws(InputError) {
        guard InputLimits.batch.contains(orders.count) else {
            throw InputError("orders must hold \(InputLimits.batch.lowerBound)...\(InputLimits.batch.upperBound) orders")
        }
        var seen = Set<String>()
        for order in orders {
            try Input.orderNumber(order.orderSn)
            try Input.id(order.skuId, "skuId")
            try Input.count(order.count, "count")
            guard seen.insert(order.orderSn).inserted else { throw InputError("order \(order.orderSn) appears twice") }
        }
    }
}

/// One order's lock in `ReservationLocks`.
package struct ReservationLock: Codable, Sendable, Equatable {
    package var orderSn: String
    package var skuId: Int64
    package var count: Int
    package init(orderSn: String, skuId: Int64, count: Int) {
        self.orderSn = orderSn
        self.skuId = skuId
        self.count = count
    }
}

/// How one order of `ReservationLocks` ended.
package struct ReservationLockAnswer: Codable, Sendable, Equatable {
    package enum Outcome: String, Codable, Sendable {
        /// Carved now, or found carved (a repeat).
        case locked
        /// The reservation cannot cover it (or is released, or holds another sku): nothing locked.
        case shortage
        /// The order's lock was released earlier (it closed): never locked again.
        case released
    }

    package var orderSn: String
    package var outcome: Outcome
    package init(orderSn: String, outcome: Outcome) {
        self.orderSn = orderSn
        self.outcome = outcome
    }
}

/// The wms reservation of a flash-sale session: seckill reserves the session's stock under this
/// key, and oms carves each of its orders' locks from it.
package enum FlashSaleReservation {
    package static func key(session: Int64) -> String { "seckill-session:\(session)" }
}
