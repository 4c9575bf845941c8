import CLibPQ
import Foundation

/// Owns one `PGconn*`. `close()` ends the session and frees it (`PQfinish`); `deinit` only
/// checks that this happened, so no network I/O runs on whatever thread drops the last reference.
///
/// `@unchecked Sendable`: the pointer is only ever used on its owning
/// `PostgresConnection`'s serial queue, so no two threads touch it at once.
final class PGConnectionHandle: @unchecked Sendable {
    let pointer: OpaquePointer
    /// Set by `close()`; `pointer` is freed from then on and must not be used.
    private(set) var closed = false
    /// The statements prepared on this session, by their SQL text (`PostgresConnection.query`).
    var prepared: [String: String] = [:]
    /// How many statement names this session has handed out (the next is `gmall_<n>`).
    var statementsNamed = 0

    init(pointer: OpaquePointer) { self.pointer = pointer }

    /// Sends Terminate (when the session is up) and frees the `PGconn`. Idempotent.
    func close() {
        guard !closed else { return }
        closed = true
        PQfinish(pointer)
    }

    deinit {
        assert(closed, "PGConnectionHandle: the PostgresConnection must be closed before deinit")
        // Only reached in release builds, where the assert is compiled out. libpq has no way to
        // free a PGconn without sending Terminate, so PQfinish is the last resort against leaking
        // the socket and the memory; its Terminate is one small write.
        if !closed { PQfinish(pointer) }
    }

    /// True once closed, or once the server side is gone.
    var isBroken: Bool { closed || PQstatus(pointer) != CONNECTION_OK }

    var errorMessage: String {
        if closed { return "connection closed" }
        return String(cString: PQerrorMessage(pointer)).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
