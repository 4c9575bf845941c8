/// A Lua script known by its SHA1, sent with `EVALSHA` and loaded on `NOSCRIPT`.
public struct RedisScript: Sendable {
    public let source: String
    public let sha1: String

    public init(_ source: String) {
        self.source = source
        self.sha1 = SHA1.hex(Array(source.utf8))
    }
}
