import Foundation
import Logging
import Postgres

public struct MigrationError: Error, CustomStringConvertible {
    public let description: String
    init(_ d: String) { description = d }
}
