import Logging
import ServiceKit

enum ServiceKitProbe {
    static func infrastructure(_ config: ServiceConfig) -> Infrastructure {
        Infrastructure(config: config, logger: Logger(label: "test"))
    }
}
