import Contracts
import Foundation
import Postgres

/// `OrderStore` on PostgreSQL: orders and their items in `guli_oms`.
package struct PostgresOrderStore: OrderStore {
    package let postgres: PostgresPool
    /// For orders written before `pay_deadline` existed: their deadline is creation + this.
    package let closeAfterSeconds: Int
    package init(postgres: PostgresPool, closeAfterSeconds: Int) {
        self.postgres = postgres
        self.closeAfterSeconds = closeAfterSeconds
    }

    package func find(orderSn: String) async throws -> OrderEntity? {
        try await postgres.withConnection { connection in
            guard let row = try await connection.query("""
                SELECT id, order_sn, member_id, status, total_amount, pay_amount, integration, growth, source_type, create_time,
                       COALESCE(pay_deadline, create_time + make_interval(secs => \(closeAfterSeconds))) AS pay_deadline
                FROM oms_order WHERE order_sn = \(orderSn)
                """).first
            else { return nil }
            let id: Int64 = try row.decode("id")
            let items = try await connection.query("""
                SELECT sku_id, sku_name, sku_price, sku_quantity FROM oms_order_item WHERE order_id = \(id) ORDER BY id
                """).rows.map { item in
                OrderItemEntity(
                    skuId: try item.decode("sku_id"), skuName: try item.decode("sku_name"),
                    skuPrice: Money(try item.decode("sku_price", as: Decimal.self)), skuQuantity: try item.decode("sku_quantity"))
            }
            let status = try row.orderStatus()
            return OrderEntity(
                id: id, orderSn: try row.decode("order_sn"), userId: try row.decode("member_id"), status: status,
                totalAmount: Money(try row.decode("total_amount", as: Decimal.self)),
                payAmount: Money(try row.decode("pay_amount", as: Decimal.self)),
                integration: try row.decode("integration"), growth: try row.decode("growth"),
                sourceType: try row.decode("source_type"), createTime: try row.decode("create_time"),
                payDeadline: try row.decodeIfPresent("pay_deadline"), items: items)
        }
    }
}
