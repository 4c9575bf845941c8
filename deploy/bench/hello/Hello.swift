import Hummingbird

/// The baseline of the seckill benchmark: a trivial Hummingbird route on the same machine,
/// `GET|POST /hello` → "hello" (port `HELLO_PORT`, default 18096).
@main
struct Hello {
    static func main() async throws {
        let router = Router()
        router.get("/hello") { _, _ in "hello" }
        router.post("/hello") { _, _ in "hello" }
        let port = Int(ProcessEnvironment.port ?? "") ?? 18096
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "hello"))
        try await app.runService()
    }
}

enum ProcessEnvironment {
    static var port: String? { getenvString("HELLO_PORT") }
    static func getenvString(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }
}

#if canImport(Glibc)
import Glibc
#endif
