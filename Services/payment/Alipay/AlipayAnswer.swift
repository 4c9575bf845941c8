import Foundation
import Signing

/// A gateway call's answer, its signature verified: `code` (`10000` success, `40004` a business
/// refusal named by `subCode`, `20000` Alipay unavailable, `40002` bad arguments), and the
/// response object's other members as text.
public struct AlipayAnswer: Sendable, Equatable {
    public let code: String
    public let subCode: String?
    public let subMessage: String?
    public let fields: [String: String]
    /// The signed response object's exact text (kept as evidence).
    public let raw: String

    public init(code: String, subCode: String? = nil, subMessage: String? = nil, fields: [String: String] = [:], raw: String = "") {
        self.code = code
        self.subCode = subCode
        self.subMessage = subMessage
        self.fields = fields
        self.raw = raw
    }

    public var succeeded: Bool { code == "10000" }

    public subscript(_ field: String) -> String? { fields[field] }

    /// Why a gateway body could not be believed.
    public struct Unverified: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// Reads `{"<key>": {...}, "sign": "..."}`: the signature must verify over the object's raw
    /// text with Alipay's public key, or nothing in it is believed.
    public static func parse(body: String, key: String, alipayPublicKey: RSAPublicKey) throws(Unverified) -> AlipayAnswer {
        guard let signed = AlipayResponseBody.signedText(in: body, key: key) else {
            throw Unverified(description: "the response has no \(key)")
        }
        guard let sign = signed.sign, alipayPublicKey.verifyRSA2(signature: sign, content: signed.text) else {
            throw Unverified(description: "the \(key) signature does not verify")
        }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(signed.text.utf8))) as? [String: Any] else {
            throw Unverified(description: "\(key) is not an object")
        }
        var fields: [String: String] = [:]
        for (name, value) in object {
            switch value {
            case let text as String: fields[name] = text
            case let number as NSNumber: fields[name] = number.stringValue
            default: continue  // nested lists (refund_detail_item_list) are not read
            }
        }
        return AlipayAnswer(
            code: fields["code"] ?? "", subCode: fields["sub_code"], subMessage: fields["sub_msg"], fields: fields, raw: signed.text)
    }
}
