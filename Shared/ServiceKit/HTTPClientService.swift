import AsyncHTTPClient
import ServiceLifecycle

/// Keeps an `HTTPClient` for the life of the service group and shuts it down after.
package struct HTTPClientService: Service {
    package let client: HTTPClient
    package init(client: HTTPClient) { self.client = client }
    package func run() async throws {
        try? await gracefulShutdown()
        try await client.shutdown()
    }
}
