import Foundation
import Synchronization

/// Time-ordered order numbers, unique across instances: milliseconds since 2026-01-01 (41 bits),
/// the instance id (10 bits, leased in PostgreSQL: `InstanceLease`) and a per-millisecond sequence
/// (12 bits), printed in decimal.
package final class OrderNumbers: Sendable {
    static let epochMilliseconds: Int64 = 1_767_225_600_000  // 2026-01-01T00:00:00Z
    private let instance: @Sendable () -> Int64?
    private let state = Mutex<(millisecond: Int64, sequence: Int64)>((0, 0))

    /// Numbers under the id `lease` holds at each call.
    package init(lease: InstanceLease) { instance = { lease.current } }

    /// Numbers under a fixed id (tests).
    package init(instance: Int64) { self.instance = { instance } }

    /// The next number, or nil while no instance id is held.
    package func next(now: Date = Date()) -> String? {
        guard let id = instance() else { return nil }
        let instance = id & 0x3FF
        let value: Int64 = state.withLock { s in
            var ms = max(Int64(now.timeIntervalSince1970 * 1000) - Self.epochMilliseconds, s.millisecond)
            if ms == s.millisecond {
                s.sequence += 1
                if s.sequence > 0xFFF { ms += 1; s.sequence = 0 }  // borrow the next millisecond
            } else {
                s.sequence = 0
            }
            s.millisecond = ms
            return ms << 22 | instance << 12 | s.sequence
        }
        return String(value)
    }
}
