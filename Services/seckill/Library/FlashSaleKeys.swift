import Contracts

/// The Redis side of a flash sale. All keys of one sku share the hash tag `{SKU}`, so every
/// script stays valid on Redis Cluster. Per session (several sessions of one sku live side by
/// side and never touch each other's keys): `sec:{SKU}:S<ID>:session` (hash: id, start, end,
/// limit, price), `…:stock`, `…:permits`, `…:buyers` (hash user → count), `…:wins` (hash order →
/// "user:count": the wins Redis knows, reconciled with PostgreSQL), `…:returned` (order numbers
/// whose permit was given back). Per sku: `sec:{SKU}:countdown:ORDERSN` (the order's latch) and
/// `sec:{SKU}:tokens:USER` (the buyer's token bucket: "tokens:at-ms"), `sec:{SKU}:used:NONCE`
/// (a challenge nonce spent, until it expires).
package enum FlashSaleKeys {
    static func prefix(_ sku: Int64, _ session: Int64) -> String { "sec:{\(sku)}:S\(session):" }
    package static func session(_ sku: Int64, session: Int64) -> String { prefix(sku, session) + "session" }
    package static func stock(_ sku: Int64, session: Int64) -> String { prefix(sku, session) + "stock" }
    package static func permits(_ sku: Int64, session: Int64) -> String { prefix(sku, session) + "permits" }
    package static func buyers(_ sku: Int64, session: Int64) -> String { prefix(sku, session) + "buyers" }
    package static func wins(_ sku: Int64, session: Int64) -> String { prefix(sku, session) + "wins" }
    /// Order numbers whose permit was given back (a give-back happens once).
    package static func returned(_ sku: Int64, session: Int64) -> String { prefix(sku, session) + "returned" }
    /// Every key of one session (to expire them once it is released).
    package static func all(_ sku: Int64, session id: Int64) -> [String] {
        [session(sku, session: id), stock(sku, session: id), permits(sku, session: id), buyers(sku, session: id),
         wins(sku, session: id), returned(sku, session: id)]
    }
    /// The order's pay-wait latch: its name is shared with oms, so it lives in `Contracts`.
    package static func countdown(_ sku: Int64, _ orderSn: String) -> String { FlashSaleLatch.key(sku: sku, orderSn: orderSn) }
    package static func bucket(_ sku: Int64, _ user: Int64) -> String { "sec:{\(sku)}:tokens:\(user)" }
    /// A challenge nonce that was used (its random part): each answers one buy.
    package static func usedChallenge(_ sku: Int64, _ random: String) -> String { "sec:{\(sku)}:used:\(random)" }
}
