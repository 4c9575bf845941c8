/// What a statement returned: its rows and how many rows it touched.
public struct PostgresResult: Sendable {
    public let rows: [PostgresRow]
    /// `PQcmdTuples`: rows inserted/updated/deleted (0 for other statements).
    public let affectedRows: Int

    public var first: PostgresRow? { rows.first }
}
