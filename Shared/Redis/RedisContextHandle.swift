import CHiredis

/// Owns one `redisContext*`. `close()` closes the socket and frees the context (`redisFree`);
/// `deinit` only checks that this happened.
///
/// `@unchecked Sendable`: only used on its `RedisConnection`'s serial queue.
final class RedisContextHandle: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<redisContext>
    /// Set by `close()`; `pointer` is freed from then on and must not be used.
    private(set) var closed = false

    init(pointer: UnsafeMutablePointer<redisContext>) { self.pointer = pointer }

    /// Closes the socket and frees the context. Redis needs no goodbye command (`QUIT` is
    /// deprecated: clients just close the connection). Idempotent.
    func close() {
        guard !closed else { return }
        closed = true
        redisFree(pointer)
    }

    deinit {
        assert(closed, "RedisContextHandle: the RedisConnection must be closed before deinit")
        // Only reached in release builds, where the assert is compiled out. redisFree sends
        // nothing (pending output is discarded); it closes the descriptor and frees memory, so
        // it is safe on whatever thread drops the last reference.
        if !closed { redisFree(pointer) }
    }

    /// True once closed, or after an I/O or protocol error.
    var isBroken: Bool { closed || pointer.pointee.err != 0 }

    var errorMessage: String {
        if closed { return "connection closed" }
        return withUnsafeBytes(of: pointer.pointee.errstr) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
    }
}
