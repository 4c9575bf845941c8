/// Statements run back to back on one connection's queue (`PostgresConnection.session`):
/// synchronous, because the caller is already on the connection's own thread. Only valid inside
/// the `session` body it was given to.
public struct PostgresSession: Sendable {
    let handle: PGConnectionHandle

    /// Runs one parameterised statement.
    @discardableResult
    public func query(_ query: PostgresQuery) throws -> PostgresResult {
        try PostgresConnection.run(handle, query)
    }
}
