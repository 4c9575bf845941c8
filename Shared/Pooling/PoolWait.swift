/// A caller's wait for a pooled connection, as the pool reports it (for metrics).
public enum PoolWait: Sendable, Equatable {
    /// A caller started waiting; `Int` callers wait now.
    case waiting(Int)
    /// A caller got its turn after `after`; `waiting` callers still wait.
    case served(after: Duration, waiting: Int)
}
