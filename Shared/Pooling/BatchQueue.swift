import Synchronization

/// Work handed from many callers to one drainer at a time (the pipelined Redis and AMQP
/// connections): `add` tells the caller whether it must start a drain; the drainer calls
/// `takeAll` until it comes back empty, which ends the drain. Items added while a batch is being
/// worked on wait for the next `takeAll`, so they go out together.
public final class BatchQueue<Item: Sendable>: Sendable {
    private struct State {
        var items: [Item] = []
        var draining = false
    }
    private let state = Mutex(State())

    public init() {}

    /// Queues `item`; true when no drain is running and the caller must start one.
    public func add(_ item: Item) -> Bool {
        state.withLock { s in
            s.items.append(item)
            if s.draining { return false }
            s.draining = true
            return true
        }
    }

    /// Everything waiting, in arrival order; an empty answer ends the drain.
    public func takeAll() -> [Item] {
        state.withLock { s in
            let items = s.items
            s.items.removeAll(keepingCapacity: true)
            if items.isEmpty { s.draining = false }
            return items
        }
    }
}
