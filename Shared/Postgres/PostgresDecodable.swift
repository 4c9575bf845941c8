/// A Swift value that can be read from a text-format result column.
public protocol PostgresDecodable {
    init(postgresText: String) throws
}
