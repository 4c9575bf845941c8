import Foundation
import Logging
import Postgres
import ServiceLifecycle
import Synchronization

/// Every one of the 1,024 instance ids is leased by a live process.
package struct InstanceLeaseUnavailable: Error, CustomStringConvertible {
    package var description: String { "all 1024 seckill instance ids are leased: too many instances, or stale leases not yet expired" }
}
