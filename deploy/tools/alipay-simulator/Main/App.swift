import AlipaySimulator
import Logging
import ServiceKit

/// `alipay-simulator`: the local stand-in for Alipay's gateway.
@main
struct App {
    static func main() async throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardOutput(label: $0) }
        try await ServiceMain.run {
            let app = try buildSimulator(try SimulatorConfig())
            try await app.runService()
        }
    }
}
