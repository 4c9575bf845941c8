import AlipaySimulator
import ServiceKit

/// `alipay-simulator`: the local stand-in for Alipay's gateway.
@main
struct App {
    static func main() async throws {
        try await ServiceMain.run {
            let app = try buildSimulator(try SimulatorConfig())
            try await app.runService()
        }
    }
}
