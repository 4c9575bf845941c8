import CLibPQ
import Dispatch
import Foundation
import Pooling
import Synchronization

/// One PostgreSQL session. Every libpq call runs on the connection's own serial
/// `DispatchQueue`, never on an event loop or the cooperative pool.
///
/// `close()` ends the session; every connection must be closed before it is dropped (asserted in
/// debug builds), so the goodbye to the server never runs in a `deinit`.
public final class PostgresConnection: Sendable {
    private let handle: PGConnectionHandle
    private let queue: DispatchQueue
    /// A `BEGIN` asked for and not yet sent: it goes out with the transaction's first statement,
    /// in the same hop to the queue (each hop is a thread wake-up each way).
    private let beginPending = Mutex(false)

    /// Opens a session; `url` is a libpq connection string (`postgresql://user@host:port/db`).
    public static func connect(url: String) async throws -> PostgresConnection {
        let queue = DispatchQueue(label: "gmall.postgres.connection")
        let handle: PGConnectionHandle = try await queue.run {
            // GSSAPI encryption off unless the URL asks for it: the suite never uses Kerberos, and
            // libpq's default ("prefer") loads krb5 and OpenSSL on every connect, work a process
            // can still be doing while it exits. Earlier keywords are overridden by the URL's.
            let keywords: [String?] = ["gssencmode", "dbname", nil], values: [String?] = ["disable", url, nil]
            let conn: OpaquePointer? = keywords.withCStrings { k in values.withCStrings { v in PQconnectdbParams(k, v, 1) } }
            guard let conn else {
                throw PostgresError(kind: .connection, sqlState: nil, message: "out of memory")
            }
            let handle = PGConnectionHandle(pointer: conn)
            do {
                if handle.isBroken {
                    throw PostgresError(kind: .connection, sqlState: nil, message: handle.errorMessage)
                }
                // Timestamps come back in one parseable form whatever the server's defaults are.
                let setup = PQexec(conn, "SET DateStyle = ISO; SET TimeZone = 'UTC'; SET client_encoding = 'UTF8'")
                defer { PQclear(setup) }
                guard PQresultStatus(setup) == PGRES_COMMAND_OK else {
                    throw PostgresError(kind: .connection, sqlState: nil, message: handle.errorMessage)
                }
                return handle
            } catch {
                // A failed connect still owns its PGconn (libpq allocates one even when the
                // connect fails): free it before throwing.
                handle.close()
                throw error
            }
        }
        return PostgresConnection(handle: handle, queue: queue)
    }

    private init(handle: PGConnectionHandle, queue: DispatchQueue) {
        self.handle = handle
        self.queue = queue
    }

    /// True once the server side is gone (or the connection was closed); the pool then closes
    /// the connection instead of reusing it.
    public var isBroken: Bool {
        get async { (try? await queue.run { [handle] in handle.isBroken }) ?? true }
    }

    /// Ends the session (Terminate) and frees it, on this connection's queue after whatever was
    /// queued before it. Idempotent; later statements throw a `.connection` error.
    public func close() async {
        _ = try? await queue.run { [handle] in handle.close() }
    }

    /// Runs one parameterised statement.
    @discardableResult
    public func query(_ query: PostgresQuery) async throws -> PostgresResult {
        try await call { handle in try Self.execute(handle, query) }
    }

    /// Runs `body` on the connection's queue, its statements back to back in one hop: for a
    /// read, a pure decision and a write that need nothing else between them. `body` runs off
    /// the caller's task (no task-locals there: take what it needs, such as a trace context, before).
    public func session<T: Sendable>(_ body: @escaping @Sendable (PostgresSession) throws -> T) async throws -> T {
        try await call { handle in try body(PostgresSession(handle: handle)) }
    }

    /// Starts a transaction with the next statement (`PostgresPool.withTransaction`).
    func beginWithNextStatement() { beginPending.withLock { $0 = true } }

    /// Whether a `BEGIN` is pending, clearing it: the statement that takes it sends it.
    private func takeBegin() -> Bool {
        beginPending.withLock { pending in
            defer { pending = false }
            return pending
        }
    }

    /// Ends a transaction begun with `beginWithNextStatement`: `COMMIT` (or `ROLLBACK`) when a
    /// statement ran, nothing when none did (its `BEGIN` was never sent).
    func end(commit: Bool) async throws {
        guard !takeBegin() else { return }  // its BEGIN was never sent
        try await query(commit ? "COMMIT" : "ROLLBACK")
    }

    /// Runs plain SQL with several statements and no parameters (migrations only).
    public func execute(script: String) async throws {
        try await call { handle in
            let result = PQexec(handle.pointer, script)
            defer { PQclear(result) }
            let status = PQresultStatus(result)
            guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else {
                throw Self.error(handle, result)
            }
        }
    }

    private static func execute(_ handle: PGConnectionHandle, _ query: PostgresQuery, again: Bool = true) throws -> PostgresResult {
        let binds = query.binds
        // libpq takes C strings: a NUL would silently cut the value short. Refuse it instead.
        if binds.contains(where: { $0?.utf8.contains(0) == true }) {
            throw PostgresError(kind: .invalidParameter, sqlState: nil, message: "a parameter holds a NUL character")
        }
        let name = try prepare(handle, query.sql, parameters: binds.count)
        let result: OpaquePointer? = binds.withCStrings { values in
            if let name {
                PQexecPrepared(handle.pointer, name, Int32(binds.count), binds.isEmpty ? nil : values, nil, nil, 0)
            } else {
                PQexecParams(handle.pointer, query.sql, Int32(binds.count), nil, binds.isEmpty ? nil : values, nil, nil, 0)
            }
        }
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else {
            let failure = error(handle, result)
            // A prepared statement the server can no longer run as prepared: a migration changed
            // the type of what it returns ("cached plan must not change result type"), or the
            // server forgot it. Prepared afresh next time; run again at once when no transaction
            // was open (inside one, the transaction has failed and its caller decides).
            if let name, failure.sqlState == "0A000" || failure.sqlState == "26000" {
                handle.prepared[query.sql] = nil
                PQclear(PQexec(handle.pointer, "DEALLOCATE \(name)"))
                if again, PQtransactionStatus(handle.pointer) == PQTRANS_IDLE { return try execute(handle, query, again: false) }
            }
            throw failure
        }
        let rowCount = Int(PQntuples(result))
        let columnCount = Int(PQnfields(result))
        let names = (0..<columnCount).map { String(cString: PQfname(result, Int32($0))) }
        var rows: [PostgresRow] = []
        rows.reserveCapacity(rowCount)
        for r in 0..<rowCount {
            var values: [String?] = []
            values.reserveCapacity(columnCount)
            for c in 0..<columnCount {
                if PQgetisnull(result, Int32(r), Int32(c)) == 1 {
                    values.append(nil)
                } else {
                    values.append(String(cString: PQgetvalue(result, Int32(r), Int32(c))))
                }
            }
            rows.append(PostgresRow(columns: names, values: values))
        }
        let affected = Int(String(cString: PQcmdTuples(result))) ?? 0
        return PostgresResult(rows: rows, affectedRows: affected)
    }

    /// The most statements one session keeps prepared; past it, new SQL texts run unprepared.
    static let preparedLimit = 256

    /// The name of `sql` prepared on this session, preparing it the first time it is seen.
    /// PostgreSQL then skips parsing and planning on every later run: measured with
    /// `deploy/bench/cost`, parse and plan were the largest part of its CPU per notify.
    /// Protocol-level prepared statements outlive a rolled-back transaction, so the cache never
    /// names one the server has forgotten; a failed prepare is thrown like the statement's error.
    private static func prepare(_ handle: PGConnectionHandle, _ sql: String, parameters: Int) throws -> String? {
        if let name = handle.prepared[sql] { return name }
        guard handle.prepared.count < preparedLimit else { return nil }
        let name = "gmall_\(handle.statementsNamed)"  // never reused: a forgotten name may live on
        let result = PQprepare(handle.pointer, name, sql, Int32(parameters), nil)
        defer { PQclear(result) }
        guard PQresultStatus(result) == PGRES_COMMAND_OK else { throw error(handle, result) }
        handle.prepared[sql] = name
        handle.statementsNamed += 1
        return name
    }

    private static func error(_ handle: PGConnectionHandle, _ result: OpaquePointer?) -> PostgresError {
        if handle.isBroken || result == nil {
            return PostgresError(kind: .connection, sqlState: nil, message: handle.errorMessage)
        }
        let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
        let message = String(cString: PQresultErrorMessage(result)).trimmingCharacters(in: .whitespacesAndNewlines)
        return PostgresError(kind: .server, sqlState: state, message: message)
    }

    /// Runs `body` on this connection's queue; refuses once the connection is closed (its
    /// `PGconn` is freed then).
    private func call<T: Sendable>(_ body: @escaping @Sendable (PGConnectionHandle) throws -> T) async throws -> T {
        let begin = takeBegin()
        return try await queue.run { [handle] in
            guard !handle.closed else {
                throw PostgresError(kind: .connection, sqlState: nil, message: handle.errorMessage)
            }
            if begin { _ = try Self.execute(handle, "BEGIN") }
            return try body(handle)
        }
    }

    /// Runs one statement on `handle` (on its queue): `PostgresSession`'s way in.
    static func run(_ handle: PGConnectionHandle, _ query: PostgresQuery) throws -> PostgresResult {
        try execute(handle, query)
    }
}

extension Array where Element == String? {
    /// The strings as an array of C strings (nil stays a NULL pointer: SQL NULL for a parameter,
    /// the terminator of a keyword list), alive for the duration of `body`.
    fileprivate func withCStrings<R>(_ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
        let copies = map { $0.map { strdup($0)! } }
        defer { copies.forEach { free($0) } }
        let pointers: [UnsafePointer<CChar>?] = copies.map { $0.map { UnsafePointer($0) } }
        // An empty array still has a valid base address to pass (libpq reads nothing from it).
        return (pointers.isEmpty ? [nil] : pointers).withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}
