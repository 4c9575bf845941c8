import Contracts
import Postgres

extension PostgresRow {
    /// `oms_order.status` as the enum; a value no version wrote is a decoding error, not a guess.
    func orderStatus() throws -> OrderStatus {
        guard let status = OrderStatus(rawValue: try decode("status", as: Int.self)) else { throw PostgresError.decoding("unknown order status") }
        return status
    }
}
