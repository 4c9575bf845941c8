import Alipay
import Foundation
import Signing
import Testing

/// A small seeded generator (SplitMix64), so every run checks the same cases.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension SeededGenerator {
    mutating func bytes(_ maxCount: Int, alphabet: [UInt8]? = nil) -> [UInt8] {
        (0..<Int.random(in: 0...maxCount, using: &self)).map { _ in
            alphabet.map { $0.randomElement(using: &self)! } ?? UInt8.random(in: 0...255, using: &self)
        }
    }

    mutating func text(_ maxCount: Int) -> String {
        let pool = Array("abcXYZ019 &=+%/?\"'<>{}[]:,.-_~谷粒商城😀\n\t".unicodeScalars)
        return String(String.UnicodeScalarView((0..<Int.random(in: 0...maxCount, using: &self)).map { _ in pool.randomElement(using: &self)! }))
    }
}

@Suite("Bad input never crashes: generated cases for the parsers and the canonicaliser")
struct PropertyTests {
    static let formAlphabet = Array("ab=&%+0123456789ABCDEFabcdefz=&%".utf8) + [0xE8, 0xB0, 0xB7, 0xFF, 0x00]

    @Test("5,000 random bodies: the form parser returns pairs or a FormBodyError, nothing else")
    func formParserTotal() {
        var g = SeededGenerator(state: 1)
        for i in 0..<5000 {
            let input = i % 2 == 0 ? g.bytes(200) : g.bytes(200, alphabet: Self.formAlphabet)
            do {
                let pairs = try FormBody.parse(input)
                #expect(Set(pairs.map(\.0)).count == pairs.count, "duplicate keys accepted")
                #expect(pairs.allSatisfy { !$0.0.isEmpty })
            } catch {
                // a typed refusal is the expected answer to junk
            }
        }
    }

    @Test("3,000 random strings: the JSON string writer gives JSONSerialization's bytes, and they read back")
    func jsonStringWriter() throws {
        var g = SeededGenerator(state: 7)
        let controls = (0..<0x20).map { String(UnicodeScalar(UInt8($0))) }.joined()
        for i in 0..<3000 {
            let text = i == 0 ? controls + "\"\\/\u{7F}\u{2028}" : g.text(40)
            let theirs = String(decoding: try JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes]), as: UTF8.self)
            #expect(AlipayJSONText.string(text) == String(theirs.dropFirst().dropLast()), "\(text.debugDescription)")
            let back = try JSONSerialization.jsonObject(with: Data(AlipayJSONText.object([("k", text)]).utf8)) as? [String: String]
            #expect(back == ["k": text])
        }
    }

    @Test("3,000 random parameter sets: encode then parse gives them back, in order")
    func formRoundTrip() throws {
        var g = SeededGenerator(state: 2)
        for _ in 0..<3000 {
            var seen = Set<String>()
            let pairs = (0..<Int.random(in: 1...12, using: &g)).compactMap { _ -> (String, String)? in
                let key = "k" + g.text(8)
                guard seen.insert(key).inserted else { return nil }
                return (key, g.text(30))
            }
            let parsed = try FormBody.parse(Array(FormBody.encode(pairs).utf8))
            #expect(parsed.map(\.0) == pairs.map(\.0))
            #expect(parsed.map(\.1) == pairs.map(\.1))
        }
    }

    @Test("3,000 random parameter sets: the sign content ignores order, drops sign and sign_type, and is sorted")
    func canonicaliser() {
        var g = SeededGenerator(state: 3)
        for _ in 0..<3000 {
            var pairs = (0..<Int.random(in: 0...10, using: &g)).map { i in ("p\(i)" + g.text(5), g.text(20)) }
            pairs.append(("sign", "S"))
            pairs.append(("sign_type", "RSA2"))
            let a = AlipaySignContent.notification(pairs)
            let b = AlipaySignContent.notification(pairs.shuffled(using: &g))
            #expect(a == b)
            #expect(!a.contains("sign=S") && !a.contains("sign_type=RSA2"))
            let keys = pairs.filter { $0.0 != "sign" && $0.0 != "sign_type" }.map { Array($0.0.utf8) }.sorted { $0.lexicographicallyPrecedes($1) }
            #expect(a.hasPrefix(keys.first.map { String(decoding: $0, as: UTF8.self) + "=" } ?? ""))
            let request = AlipaySignContent.request(Dictionary(pairs, uniquingKeysWith: { x, _ in x }))
            #expect(request.contains("sign_type=RSA2") && !request.contains("sign=S"))
        }
    }

    @Test("4,000 random and mutated tokens: the JWT verifier refuses each with a JWTError, never accepts a changed one")
    func jwtParserTotal() throws {
        let key = try RSAPrivateKey(text: AlipayVectors.key("merchant_private_key.txt"))
        let verifier = JWTVerifier(publicKey: try RSAPublicKey(text: AlipayVectors.key("merchant_public_key.txt")))
        let good = try JWTSigner(privateKey: key).token(userID: 42)
        #expect(try verifier.verify(good).userID == 42)
        var g = SeededGenerator(state: 4)
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.=+/".utf8)
        for i in 0..<4000 {
            var candidate: [UInt8]
            if i % 2 == 0 {
                candidate = g.bytes(300, alphabet: i % 4 == 0 ? nil : alphabet)
            } else {
                candidate = Array(good.utf8)
                for _ in 0..<Int.random(in: 1...4, using: &g) {
                    let at = Int.random(in: 0..<candidate.count, using: &g)
                    candidate[at] = alphabet.randomElement(using: &g)!
                }
            }
            let text = String(decoding: candidate, as: UTF8.self)
            if text == good { continue }
            do {
                let claims = try verifier.verify(text)
                // base64url has slack bits: a change there decodes to the very same bytes
                let decodedSame = text.split(separator: ".").map { Base64URL.decode($0) } == good.split(separator: ".").map { Base64URL.decode($0) }
                #expect(decodedSame && claims.userID == 42, "a changed token was accepted: \(text)")
            } catch {
                #expect(error is JWTError)
            }
        }
    }

    @Test("2,000 random gateway bodies: the raw-JSON extractor answers nil or a balanced object, never crashes")
    func responseExtractor() {
        var g = SeededGenerator(state: 5)
        let pieces = [#"{"#, #"}"#, #"""#, #"\""#, #"alipay_trade_query_response"#, #":"#, #","#, #"sign"#, "[", "]", " ", "x"]
        for _ in 0..<2000 {
            let body = (0..<Int.random(in: 0...40, using: &g)).map { _ in pieces.randomElement(using: &g)! }.joined()
            if let found = AlipayResponseBody.signedText(in: body, key: "alipay_trade_query_response") {
                #expect(found.text.hasPrefix("{") && found.text.hasSuffix("}"))
            }
        }
    }
}
