extension Int64: PostgresEncodable, PostgresDecodable {
    public var postgresText: String { String(self) }
    public init(postgresText: String) throws {
        guard let v = Int64(postgresText) else { throw PostgresError.decoding("not an integer: \(postgresText)") }
        self = v
    }
}

extension Int: PostgresEncodable, PostgresDecodable {
    public var postgresText: String { String(self) }
    public init(postgresText: String) throws {
        guard let v = Int(postgresText) else { throw PostgresError.decoding("not an integer: \(postgresText)") }
        self = v
    }
}

extension Int32: PostgresEncodable, PostgresDecodable {
    public var postgresText: String { String(self) }
    public init(postgresText: String) throws {
        guard let v = Int32(postgresText) else { throw PostgresError.decoding("not an integer: \(postgresText)") }
        self = v
    }
}
