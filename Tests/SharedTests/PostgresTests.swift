import Foundation
import Postgres
import Testing

/// `tx_probe`, created once even when tests race to create it.
func createProbeTable(_ pool: PostgresPool) async throws {
    try await pool.withTransaction { connection in
        try await connection.query("SELECT pg_advisory_xact_lock(7261002)")
        try await connection.query("CREATE TABLE IF NOT EXISTS tx_probe (id text PRIMARY KEY)")
    }
}

/// Runs `body` with a pool on the test database and closes the pool however `body` ends: `defer`
/// cannot await, and a pool dropped with open connections asserts, which would crash the test
/// process instead of failing the test.
@discardableResult
func withTestPool<T>(maxConnections: Int = 4, _ body: (PostgresPool) async throws -> T) async throws -> T {
    let pool = try await TestServers.postgres(maxConnections: maxConnections)
    do {
        let value = try await body(pool)
        await pool.close()
        return value
    } catch {
        await pool.close()
        throw error
    }
}

@Suite("PostgreSQL wrapper against the real server")
struct PostgresTests {
    @Test("values round-trip with their types: Int64, String, numeric as exact Decimal, timestamptz as Date")
    func typedRoundTrip() async throws {
        try await withTestPool { pool in
            let when = Date(timeIntervalSince1970: 1_795_000_000.123456)
            let amount = Decimal(string: "1999.9001")!
            let row = try await pool.query(
                "SELECT \(Int64.max)::bigint AS big, \("谷粒 ' \"; DROP") AS text, \(amount)::numeric(18,4) AS amount, \(when)::timestamptz AS at, \(Optional<String>.none)::text AS nothing"
            ).rows[0]
            #expect(try row.decode("big", as: Int64.self) == Int64.max)
            #expect(try row.decode("text", as: String.self) == "谷粒 ' \"; DROP")
            #expect(try row.decode("amount", as: Decimal.self) == amount)
            #expect(abs(try row.decode("at", as: Date.self).timeIntervalSince(when)) < 0.000_001)
            #expect(try row.decodeIfPresent("nothing", as: String.self) == nil)
        }
    }

    @Test("an array parameter keeps every element whole: commas, quotes, backslashes, braces, NULL as text, spaces, empty")
    func arrayParameters() async throws {
        try await withTestPool { pool in
            let texts = ["a,b", "say \"hi\"", "back\\slash", "{x}", "NULL", " padded ", "", "谷粒"]
            let rows = try await pool.query("SELECT t FROM unnest(\(texts)::text[]) WITH ORDINALITY AS u(t, n) ORDER BY n").rows
            #expect(try rows.map { try $0.decode("t", as: String.self) } == texts)
            let ids: [Int64] = [3, -1, Int64.max]
            let sum = try await pool.query("SELECT count(*) AS n FROM unnest(\(ids)::bigint[]) AS v WHERE v = ANY(\(ids)::bigint[])").rows[0]
            #expect(try sum.decode("n", as: Int64.self) == 3)
            let none = try await pool.query("SELECT cardinality(\([Int64]())::bigint[]) AS n").rows[0]
            #expect(try none.decode("n", as: Int64.self) == 0)
        }
    }

    @Test("a query inside another keeps its parameters, renumbered after the outer ones")
    func composedQuery() async throws {
        let inner: PostgresQuery = "SELECT \(2)::int AS b, \("two")::text AS c"
        let outer: PostgresQuery = "SELECT \(1)::int AS a, x.b, x.c, \(3)::int AS d FROM (\(inner)) x"
        #expect(outer.sql == "SELECT $1::int AS a, x.b, x.c, $2::int AS d FROM (SELECT $3::int AS b, $4::text AS c) x")
        #expect(outer.binds == ["1", "3", "2", "two"])
        try await withTestPool(maxConnections: 1) { pool in
            let row = try await pool.query(outer).rows[0]
            #expect(try row.decode("a", as: Int.self) == 1 && row.decode("b", as: Int.self) == 2 && row.decode("c", as: String.self) == "two" && row.decode("d", as: Int.self) == 3)
        }
    }

    @Test("a prepared statement still runs after a migration changed the type it returns")
    func preparedAfterTypeChange() async throws {
        try await withTestPool(maxConnections: 1) { pool in
            let table = "prep_probe_\(UInt32.random(in: 0...UInt32.max))"
            try await pool.query("CREATE TABLE \(unescaped: table) (id int PRIMARY KEY, amount int NOT NULL)")
            try await pool.query("INSERT INTO \(unescaped: table) VALUES (1, 5)")
            let select: PostgresQuery = "SELECT * FROM \(unescaped: table) WHERE id = \(1)"
            #expect(try await pool.query(select).rows[0].decode("amount", as: String.self) == "5")
            try await pool.query("ALTER TABLE \(unescaped: table) ALTER COLUMN amount TYPE numeric(18,2)")
            // Before: "cached plan must not change result type" on every later run on this connection.
            #expect(try await pool.query(select).rows[0].decode("amount", as: String.self) == "5.00")
            #expect(try await pool.query(select).rows[0].decode("amount", as: String.self) == "5.00")
            try await pool.query("DROP TABLE \(unescaped: table)")
        }
    }

    @Test("a transaction that runs no statement sends neither BEGIN nor COMMIT, and one that does is whole")
    func lazyBegin() async throws {
        try await withTestPool(maxConnections: 1) { pool in
            try await createProbeTable(pool)
            try await pool.withTransaction { _ in }
            let id = UUID().uuidString
            let inside: String = try await pool.withTransaction { connection in
                try await connection.query("INSERT INTO tx_probe (id) VALUES (\(id))")
                return try await connection.query("SELECT to_char(now(), 'US') || txid_current_if_assigned()::text AS t").rows[0].decode("t")
            }
            #expect(!inside.isEmpty, "the insert and the read ran in one transaction (it has a transaction id)")
            // The connection went back idle: a statement now is its own transaction.
            let status: String = try await pool.query("SELECT txid_current_if_assigned() IS NULL AS idle").rows[0].decode("idle")
            #expect(status == "t")
        }
    }

    @Test("a transaction whose body throws leaves no row")
    func rollbackOnThrow() async throws {
        try await withTestPool { pool in
            try await createProbeTable(pool)
            let id = UUID().uuidString
            await #expect(throws: TestFailure.self) {
                try await pool.withTransaction { connection in
                    try await connection.query("INSERT INTO tx_probe (id) VALUES (\(id))")
                    throw TestFailure("boom")
                }
            }
            let count = try await pool.query("SELECT count(*) AS n FROM tx_probe WHERE id = \(id)").rows[0].decode("n", as: Int.self)
            #expect(count == 0)
        }
    }

    @Test("a committed transaction keeps its row and a unique violation is a typed error")
    func commitAndUniqueViolation() async throws {
        try await withTestPool { pool in
            try await createProbeTable(pool)
            let id = UUID().uuidString
            _ = try await pool.withTransaction { try await $0.query("INSERT INTO tx_probe (id) VALUES (\(id))") }
            do {
                try await pool.query("INSERT INTO tx_probe (id) VALUES (\(id))")
                Issue.record("duplicate insert succeeded")
            } catch let error as PostgresError {
                #expect(error.isUniqueViolation)
            }
        }
    }

    @Test("the pool never opens more than its bound, and 40 concurrent users all finish")
    func boundedPool() async throws {
        try await withTestPool(maxConnections: 3) { pool in
            let backends = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<40 {
                    group.addTask { try await pool.query("SELECT pg_backend_pid() AS pid, pg_sleep(0.01)").rows[0].decode("pid", as: Int.self) }
                }
                var pids = Set<Int>()
                for try await pid in group { pids.insert(pid) }
                return pids
            }
            #expect(backends.count <= 3)
        }
    }

    @Test("a syntax error is a server error with its SQLSTATE, and the connection stays usable")
    func serverError() async throws {
        try await withTestPool(maxConnections: 1) { pool in
            do {
                try await pool.query("SELEC 1")
                Issue.record("bad SQL succeeded")
            } catch let error as PostgresError {
                #expect(error.kind == .server)
                #expect(error.sqlState == "42601")
            }
            #expect(try await pool.query("SELECT 1 AS one").rows[0].decode("one", as: Int.self) == 1)
        }
    }
}
