import Contracts
import Foundation
import Hummingbird

extension Request {
    /// The body as `T`, read within the context's upload limit (413 past it). Refused with 400
    /// before decoding: invalid UTF-8, nesting deeper than `InputLimits.jsonDepth`, and NUL (raw
    /// or `\u0000`), which libpq would silently cut a string at.
    package func decodeJSON<T: Decodable>(as type: T.Type, context: ShopRequestContext) async throws -> T {
        let buffer = try await body.collect(upTo: context.maxUploadSize)
        let bytes = Array(buffer.readableBytesView)
        try JSONInput.check(bytes)
        do {
            return try ShopJSON.decoder.decode(T.self, from: Data(bytes))
        } catch {
            throw ShopError.badRequest("the body is not the expected JSON")
        }
    }
}

package enum JSONInput {
    /// The checks above, in one pass over the bytes.
    package static func check(_ bytes: [UInt8]) throws(InputError) {
        guard String(validating: bytes, as: UTF8.self) != nil else { throw InputError("the body is not valid UTF-8") }
        var depth = 0
        var inString = false
        var escaped = false
        var index = 0
        while index < bytes.count {
            let b = bytes[index]
            if b == 0 { throw InputError("the body holds a NUL byte") }
            if inString {
                if escaped {
                    escaped = false
                    if b == UInt8(ascii: "u"), index + 4 < bytes.count, bytes[(index + 1)...(index + 4)].elementsEqual("0000".utf8) {
                        throw InputError("the body holds a NUL character")
                    }
                } else if b == UInt8(ascii: "\\") {
                    escaped = true
                } else if b == UInt8(ascii: "\"") {
                    inString = false
                }
            } else if b == UInt8(ascii: "\"") {
                inString = true
            } else if b == UInt8(ascii: "[") || b == UInt8(ascii: "{") {
                depth += 1
                if depth > InputLimits.jsonDepth { throw InputError("the body is nested deeper than \(InputLimits.jsonDepth)") }
            } else if b == UInt8(ascii: "]") || b == UInt8(ascii: "}") {
                depth -= 1
            }
            index += 1
        }
    }
}
