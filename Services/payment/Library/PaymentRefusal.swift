/// Why evidence was refused; each becomes `failure` to Alipay and a log line.
package struct PaymentRefusal: Error, CustomStringConvertible, Sendable, Equatable {
    package let description: String
    package init(_ d: String) { description = d }
}
