import CRabbitMQ

/// Owns one `amqp_connection_state_t`. `close()` says goodbye to the broker and destroys it;
/// `deinit` only checks that this happened, so no network I/O runs on whatever thread drops the
/// last reference.
///
/// `@unchecked Sendable`: used only on its `AMQPConnection`'s serial queue.
final class AMQPConnectionHandle: @unchecked Sendable {
    let state: amqp_connection_state_t
    var loggedIn = false
    /// Set after a socket or protocol error: closing politely would only block.
    var broken = false
    /// Set by `close()`; `state` is destroyed from then on and must not be used.
    private(set) var closed = false

    init(state: amqp_connection_state_t) { self.state = state }

    /// Sends channel.close and connection.close (each bounded by the RPC timeout) when logged in
    /// and not broken, then destroys the state. Idempotent.
    func close() {
        guard !closed else { return }
        closed = true
        if loggedIn && !broken {
            _ = amqp_channel_close(state, AMQPConnection.channel, AMQP_REPLY_SUCCESS)
            _ = amqp_connection_close(state, AMQP_REPLY_SUCCESS)
        }
        loggedIn = false
        amqp_destroy_connection(state)
    }

    deinit {
        assert(closed, "AMQPConnectionHandle: the AMQPConnection must be closed before deinit")
        // Only reached in release builds, where the assert is compiled out. No goodbye to the
        // broker from here (it could block for the RPC timeout): amqp_destroy_connection sends
        // nothing, it closes the socket and frees the state; the broker sees the connection drop.
        if !closed { amqp_destroy_connection(state) }
    }
}
