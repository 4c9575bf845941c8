import Contracts

/// What oms's routes read: an order with its items. `PostgresOrderStore` is the implementation;
/// the consumers (`OrderMessageHandlers`, `FlashSaleOrders`) write in their own transactions.
package protocol OrderStore: Sendable {
    /// The order with its items, or nil.
    func find(orderSn: String) async throws -> OrderEntity?
}
