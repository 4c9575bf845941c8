/// `ResponseVo.code`s of oms's 409 answers (checkout and refunds).
package enum OrderCode {
    /// Not enough stock for some line: nothing was ordered or locked.
    package static let shortage = 409
    /// The order token came with another request.
    package static let tokenReused = 4093
    /// The checkout outlived its close timer before its order was written.
    package static let expired = 4094
    /// Only a paid (not yet shipped) order can be refunded.
    package static let notRefundable = 4095
    /// Only an unpaid order can be closed.
    package static let notClosable = 4096
}
