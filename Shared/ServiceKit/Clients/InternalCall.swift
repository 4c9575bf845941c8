import AsyncHTTPClient
import NIOHTTP1
import Contracts
import Foundation
import NIOCore

/// One call to another service's internal listener: the body encoded from a `Contracts` type, the
/// caller's service token attached, the `ResponseVo` answer decoded. Shared by the typed clients.
struct InternalCall: Sendable {
    let service: String
    let baseURL: String
    let http: HTTPClient
    let credential: ServiceCredential

    /// The HTTP status and the decoded envelope (nil data on errors). Unreachable, or an answer
    /// that is not the envelope, throws `UpstreamError`.
    func send<Answer: Codable & Sendable>(
        _ method: HTTPMethod, _ path: String, body: (some Encodable)? = Optional<String>.none, as: Answer.Type
    ) async throws -> (status: Int, vo: ResponseVo<Answer>) {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        request.headers.add(name: ServiceToken.header, value: try credential.token())
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try ShopJSON.encoder.encode(body)))
        }
        let response: HTTPClientResponse
        let bytes: ByteBuffer
        do {
            response = try await http.execute(request, timeout: .seconds(10))
            bytes = try await response.body.collect(upTo: 1 << 20)
        } catch {
            throw UpstreamError(service: service, status: nil, message: "\(error)")
        }
        let status = Int(response.status.code)
        guard let vo = try? ShopJSON.decoder.decode(ResponseVo<Answer>.self, from: Data(buffer: bytes)) else {
            throw UpstreamError(service: service, status: status, message: "the answer is not a ResponseVo")
        }
        return (status, vo)
    }

    func failure(_ status: Int, _ msg: String) -> UpstreamError { UpstreamError(service: service, status: status, message: msg) }
}

/// Percent-encodes one path segment (RFC 3986's unreserved characters and ':' stay as they are: the
/// receiving router does not decode them).
func pathSegment(_ text: String) -> String {
    text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
}

private let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:")
