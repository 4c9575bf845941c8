import Alipay
import Foundation
import ServiceKit
import Signing
import Testing

/// The vectors from ../shared/fixtures/alipay, each checked with an independent Alipay client.
struct AlipayVectors {
    let json: [String: Any]
    init() throws {
        json = try JSONSerialization.jsonObject(with: Data(TestServers.fixture("alipay/vectors.json").utf8)) as! [String: Any]
    }
    subscript(_ kind: String) -> [String: Any] { json[kind] as! [String: Any] }
    static func key(_ name: String) throws -> String { try TestServers.fixture("alipay/" + name) }
}

@Suite("RSA2 signing and verification (Alipay vectors)")
struct SigningTests {
    @Test("the page-pay request signs byte for byte like Alipay's own client")
    func pagePayVector() throws {
        let v = try AlipayVectors()["page_pay"]
        let params = v["params"] as! [String: String]
        let content = AlipaySignContent.request(params)
        #expect(content == v["sign_content"] as! String)
        let key = try RSAPrivateKey(text: AlipayVectors.key("merchant_private_key.txt"))
        #expect(try key.signRSA2(content) == v["sign"] as! String)
        let pub = try RSAPublicKey(text: AlipayVectors.key("merchant_public_key.txt"))
        #expect(pub.verifyRSA2(signature: v["sign"] as! String, content: content))
    }

    @Test("the notify vector verifies with the Alipay public key, on decoded values with &quot; kept")
    func notifyVector() throws {
        let v = try AlipayVectors()["notify"]
        let pairs = try FormBody.parse(Array((v["form_body"] as! String).utf8))
        let content = AlipaySignContent.notification(pairs)
        #expect(content == v["sign_content"] as! String)
        let sign = pairs.first { $0.0 == "sign" }!.1
        let alipay = try RSAPublicKey(text: AlipayVectors.key("alipay_public_key.txt"))
        #expect(alipay.verifyRSA2(signature: sign, content: content))
        let merchant = try RSAPublicKey(text: AlipayVectors.key("merchant_public_key.txt"))
        #expect(!merchant.verifyRSA2(signature: sign, content: content), "the merchant key must not verify Alipay's notify")
    }

    @Test("the return vector verifies")
    func returnVector() throws {
        let v = try AlipayVectors()["return"]
        let pairs = try FormBody.parse(Array((v["query"] as! String).utf8))
        let content = AlipaySignContent.notification(pairs)
        #expect(content == v["sign_content"] as! String)
        let alipay = try RSAPublicKey(text: AlipayVectors.key("alipay_public_key.txt"))
        #expect(alipay.verifyRSA2(signature: pairs.first { $0.0 == "sign" }!.1, content: content))
    }

    @Test("the trade-query response verifies over the raw JSON text of the response object")
    func queryVector() throws {
        let v = try AlipayVectors()["query_response"]
        let signed = try #require(AlipayResponseBody.signedText(in: v["body"] as! String, key: "alipay_trade_query_response"))
        #expect(signed.text == v["signed_text"] as! String)
        let alipay = try RSAPublicKey(text: AlipayVectors.key("alipay_public_key.txt"))
        #expect(alipay.verifyRSA2(signature: try #require(signed.sign), content: signed.text))
    }

    @Test("a signature made with a fresh key pair verifies, and any changed byte does not")
    func changedByteFails() throws {
        let key = try RSAPrivateKey(text: AlipayVectors.key("merchant_private_key.txt"))
        let pub = try RSAPublicKey(text: AlipayVectors.key("merchant_public_key.txt"))
        let content = "app_id=1&total_amount=0.01"
        let sign = try key.signRSA2(content)
        #expect(pub.verifyRSA2(signature: sign, content: content))
        var bytes = Array(content.utf8)
        for i in bytes.indices {
            bytes[i] ^= 0x01
            #expect(!pub.verify(Array(Data(base64Encoded: sign)!), of: bytes))
            bytes[i] ^= 0x01
        }
        var sig = Array(Data(base64Encoded: sign)!)
        sig[17] ^= 0x80
        #expect(!pub.verify(sig, of: Array(content.utf8)))
        #expect(!pub.verifyRSA2(signature: "", content: content))
        #expect(!pub.verifyRSA2(signature: "not base64!", content: content))
    }

    @Test("keys load as PEM and as bare base64; junk is a clear error")
    func keyFormats() throws {
        let bare = try AlipayVectors.key("merchant_private_key.txt").trimmingCharacters(in: .whitespacesAndNewlines)
        let pem = "-----BEGIN PRIVATE KEY-----\n" + stride(from: 0, to: bare.count, by: 64).map {
            let s = bare.index(bare.startIndex, offsetBy: $0)
            return String(bare[s..<(bare.index(s, offsetBy: 64, limitedBy: bare.endIndex) ?? bare.endIndex)])
        }.joined(separator: "\n") + "\n-----END PRIVATE KEY-----\n"
        let a = try RSAPrivateKey(text: bare).signRSA2("x")
        let b = try RSAPrivateKey(text: pem).signRSA2("x")
        #expect(a == b)
        #expect(throws: SigningError.self) { try RSAPrivateKey(text: "hello") }
        #expect(throws: SigningError.self) { try RSAPublicKey(text: bare) }
    }
}

@Suite("Form bodies")
struct FormBodyTests {
    @Test("plus is a space, escapes decode, order is kept")
    func decodes() throws {
        let pairs = try FormBody.parse(Array("b=1+2&a=%E8%B0%B7%26&c=".utf8))
        #expect(pairs.map(\.0) == ["b", "a", "c"])
        #expect(pairs.map(\.1) == ["1 2", "谷&", ""])
    }

    @Test("malformed escapes, invalid UTF-8 and repeated keys are refused")
    func refuses() {
        for bad in ["a=%", "a=%4", "a=%ZZ", "a=%FF%FE", "a=1&a=2", "=x"] {
            #expect(throws: FormBodyError.self, "\(bad)") { try FormBody.parse(Array(bad.utf8)) }
        }
    }

    @Test("encode then parse gives back the same text")
    func roundTrip() throws {
        let value = "谷粒 a+b&c=d/e?%"
        #expect(try FormBody.parse(Array("k=\(FormBody.encode(value))".utf8))[0].1 == value)
    }
}

@Suite("RS256 JWT")
struct JWTTests {
    let signer: JWTSigner
    let verifier: JWTVerifier
    init() throws {
        signer = JWTSigner(privateKey: try RSAPrivateKey(text: AlipayVectors.key("merchant_private_key.txt")))
        verifier = JWTVerifier(publicKey: try RSAPublicKey(text: AlipayVectors.key("merchant_public_key.txt")))
    }

    @Test("a minted token verifies and carries the member id")
    func valid() throws {
        #expect(try verifier.verify(signer.token(userID: 1001)).userID == 1001)
    }

    @Test("an expired token is refused")
    func expired() throws {
        let token = try signer.token(userID: 7, validFor: 60, now: Date().addingTimeInterval(-3600))
        #expect(throws: JWTError.expired) { try verifier.verify(token) }
    }

    @Test("alg none and HS256 are refused whatever the signature")
    func algorithmPinned() throws {
        let payload = Base64URL.encode(Array(#"{"sub":"1","exp":9999999999}"#.utf8))
        for alg in ["none", "HS256", "RS512"] {
            let header = Base64URL.encode(Array(#"{"alg":"\#(alg)","typ":"JWT"}"#.utf8))
            #expect(throws: JWTError.algorithmNotAllowed(alg)) { try verifier.verify("\(header).\(payload).") }
            #expect(throws: JWTError.algorithmNotAllowed(alg)) { try verifier.verify("\(header).\(payload).c2ln") }
        }
    }

    @Test("a token signed by another key, or with a changed payload, is refused")
    func forged() throws {
        let other = JWTSigner(privateKey: try RSAPrivateKey(text: AlipayVectors.key("alipay_private_key.txt")))
        #expect(throws: JWTError.badSignature) { try verifier.verify(other.token(userID: 1)) }
        let parts = try signer.token(userID: 1).split(separator: ".")
        let changed = Base64URL.encode(Array(#"{"sub":"2","exp":9999999999}"#.utf8))
        #expect(throws: JWTError.badSignature) { try verifier.verify("\(parts[0]).\(changed).\(parts[2])") }
        #expect(throws: JWTError.self) { try verifier.verify("garbage") }
    }
}

@Suite("Bearer header")
struct BearerHeaderTests {
    @Test("the scheme is case-insensitive and the token's surrounding spaces are dropped")
    func bearerScheme() {
        #expect(BuyerAuthenticator.bearerToken("Bearer abc.def.ghi") == "abc.def.ghi")
        #expect(BuyerAuthenticator.bearerToken("bEaReR   abc.def \t") == "abc.def")
        #expect(BuyerAuthenticator.bearerToken("Bearer ") == "")
    }

    @Test("another scheme, or no space after the scheme, is not a bearer token")
    func otherSchemes() {
        #expect(BuyerAuthenticator.bearerToken("Basic dXNlcjpwYXNz") == nil)
        #expect(BuyerAuthenticator.bearerToken("Bearerabc") == nil)
        #expect(BuyerAuthenticator.bearerToken("Bear") == nil)
    }
}

@Suite("Base64url")
struct Base64URLTests {
    @Test("encodes like Foundation's base64 with the url alphabet and no padding, and decodes back, for 0 to 64 random bytes")
    func matchesFoundation() {
        for length in 0...64 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255) }
            let expected = Data(bytes).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            #expect(Base64URL.encode(bytes) == expected)
            #expect(Base64URL.decode(expected) == Data(bytes))
        }
    }

    @Test("padding, the standard alphabet, a 4n+1 length and leftover bits are refused")
    func refusesNonCanonical() {
        #expect(Base64URL.decode("QQ==") == nil)
        #expect(Base64URL.decode("a+b/") == nil)
        #expect(Base64URL.decode("QUJDR") == nil)
        #expect(Base64URL.decode("QR") == nil)  // "QQ" is "A"; "QR" sets a bit past the byte
        #expect(Base64URL.decode("QQ") == Data([65]))
    }
}
