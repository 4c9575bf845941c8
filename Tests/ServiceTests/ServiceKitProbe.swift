import Logging
import ServiceKit

enum ServiceKitProbe {
    /// An infrastructure that is not run as services: the caller must `close()` it, since its
    /// pools and publisher assert in debug builds that they were closed before they are dropped.
    static func infrastructure(_ config: ServiceConfig) -> Infrastructure {
        Infrastructure(config: config, logger: Logger(label: "test"))
    }
}
