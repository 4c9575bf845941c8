import Alipay
import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceKit
import ServiceLifecycle
import Signing

/// A trade as the simulator knows it.
public struct SimulatedTrade: Sendable, Codable {
    public var outTradeNo: String
    public var totalAmount: String
    public var subject: String
    public var notifyURL: String
    public var returnURL: String
    public var passbackParams: String?
    public var tradeNo: String
    public var status: String
    public var createdAt: Date
    public var paidAt: Date?
    public var notifyAttempts: Int
    public var notifyDelivered: Bool
}
