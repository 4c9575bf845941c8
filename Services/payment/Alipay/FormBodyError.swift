/// Why a form body or query string was refused.
public struct FormBodyError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    init(_ d: String) { description = d }
}
