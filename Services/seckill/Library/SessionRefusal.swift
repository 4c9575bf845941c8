import Contracts
import Foundation
import Logging
import Postgres
import Redis
import ServiceKit
import ServiceLifecycle
import Synchronization

/// A session could not be opened (HTTP 409/400 with the reason).
package struct SessionRefusal: Error, CustomStringConvertible, Sendable {
    package let description: String
    package init(_ d: String) { description = d }
}
