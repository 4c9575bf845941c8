import Contracts
import Foundation

/// A row of `payment_info`.
package struct PaymentRecord: Sendable, Equatable {
    package let id: Int64
    package let outTradeNo: String
    package let orderID: Int64
    package let userID: Int64
    package let subject: String
    package let totalAmount: Money
    package let status: PaymentStatus
    package let tradeNo: String?
    package let createTime: Date
}
