import Contracts
import Foundation
import Postgres
import Redis
import ServiceKit
import Signing
import Testing

@Suite("Service tokens: HMAC-signed, short-lived, naming their caller")
struct ServiceTokenTests {
    let key = Array("k".utf8) + Array(repeating: 7, count: 40)

    @Test("a fresh token names its caller to its callee; one minted two minutes ago, under another key or for another callee does not verify")
    func lifetime() {
        let now = Date()
        #expect(ServiceToken.caller(of: ServiceToken.mint(caller: "oms", callee: "wms", key: key, now: now), to: "wms", key: key, now: now) == "oms")
        #expect(ServiceToken.caller(of: ServiceToken.mint(caller: "oms", callee: "wms", key: key, now: now), to: "payment", key: key, now: now) == nil)
        #expect(ServiceToken.caller(of: ServiceToken.mint(caller: "oms", callee: "wms", key: key, now: now.addingTimeInterval(-121)), to: "wms", key: key, now: now) == nil)
        #expect(ServiceToken.caller(of: ServiceToken.mint(caller: "oms", callee: "wms", key: Array(key.reversed()), now: now), to: "wms", key: key, now: now) == nil)
    }

    @Test("changing the caller, the callee, the expiry or one byte of the MAC breaks it; so does a far-future expiry")
    func tampering() {
        let now = Date()
        let token = ServiceToken.mint(caller: "oms", callee: "wms", key: key, now: now)
        let parts = token.split(separator: ".").map(String.init)
        func verify(_ parts: [String]) -> String? { ServiceToken.caller(of: parts.joined(separator: "."), to: "wms", key: key, now: now) }
        #expect(verify(parts) == "oms")
        #expect(verify(["svc1", "payment", "wms", parts[3], parts[4]]) == nil)
        #expect(ServiceToken.caller(of: ["svc1", "oms", "oms", parts[3], parts[4]].joined(separator: "."), to: "oms", key: key, now: now) == nil)
        #expect(verify(["svc1", "oms", "wms", String(Int64(parts[3])! + 1), parts[4]]) == nil)
        var mac = Array(parts[4].utf8)
        mac[0] = mac[0] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect(verify(["svc1", "oms", "wms", parts[3], String(decoding: mac, as: UTF8.self)]) == nil)
        let far = ServiceToken.mint(caller: "oms", callee: "wms", key: key, now: now.addingTimeInterval(86_400))
        #expect(ServiceToken.caller(of: far, to: "wms", key: key, now: now) == nil)
        for junk in ["", "svc1", "svc1.oms.wms.1.", "svc2.oms.wms.9999999999.AAAA", String(repeating: "a", count: 10_000)] {
            #expect(ServiceToken.caller(of: junk, to: "wms", key: key, now: now) == nil)
        }
    }

    @Test("HMAC-SHA256 matches RFC 4231 test case 2")
    func rfc4231() {
        let mac = HMACSHA256.mac(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
        #expect(mac.map { String(format: "%02x", $0) }.joined() == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        #expect(ConstantTime.equals("abc", "abc") && !ConstantTime.equals("abc", "abd") && !ConstantTime.equals("abc", "abcd"))
    }
}

@Suite("Edge input: limits checked before anything reaches a store")
struct EdgeInputTests {
    @Test("a lock request merges lines per sku in sku order and refuses overflow, empty, zero, too many and malformed lines")
    func lockRequest() throws {
        let merged = try StockLockRequest(orderSn: "A1", items: [.init(skuId: 5, count: 2), .init(skuId: 3, count: 1), .init(skuId: 5, count: 4)]).validated()
        #expect(merged == [LockLine(skuId: 3, count: 1), LockLine(skuId: 5, count: 6)])
        let refused: [StockLockRequest] = [
            .init(orderSn: "A1", items: [.init(skuId: 5, count: Int.max), .init(skuId: 5, count: 1)]),
            .init(orderSn: "A1", items: [.init(skuId: 5, count: 6000), .init(skuId: 5, count: 6000)]),
            .init(orderSn: "A1", items: []),
            .init(orderSn: "A1", items: [.init(skuId: 5, count: 0)]),
            .init(orderSn: "A1", items: [.init(skuId: 0, count: 1)]),
            .init(orderSn: "A1", items: Array(repeating: .init(skuId: 5, count: 1), count: 101)),
            .init(orderSn: "", items: [.init(skuId: 5, count: 1)]),
            .init(orderSn: "A\u{0}1", items: [.init(skuId: 5, count: 1)]),
            .init(orderSn: String(repeating: "9", count: 65), items: [.init(skuId: 5, count: 1)]),
            .init(orderSn: "A1", items: [.init(skuId: 5, count: 1)], reservationKey: "a/b"),
        ]
        for request in refused {
            #expect(throws: InputError.self) { try request.validated() }
        }
    }

    @Test("JSON bodies: NUL raw or escaped, invalid UTF-8 and deep nesting are refused; strings may hold brackets and escaped quotes")
    func jsonInput() throws {
        try JSONInput.check(Array(#"{"a":"[[[[[[[[[[[[[[[[[[[[ \" {{{{","b":[1,[2,[3]]]}"#.utf8))
        try JSONInput.check(Array(#"{"a":"\\u0000 is text here"}"#.utf8))
        for bad: [UInt8] in [
            Array(#"{"a":"x\u0000y"}"#.utf8), [0x7B, 0x00, 0x7D], [0x22, 0xFF, 0x22], [0x22, 0xC0, 0xAF, 0x22],
            Array(String(repeating: "[", count: 17).utf8), Array(String(repeating: "{\"a\":", count: 40).utf8),
        ] {
            #expect(throws: InputError.self) { try JSONInput.check(bad) }
        }
    }

    @Test("errors map to what a client should see: infrastructure down is a 503 to retry, bad input a 400, the rest a 500")
    func errorMapping() {
        #expect(ShopError(PostgresError(kind: .connection, sqlState: nil, message: "gone")).status == .serviceUnavailable)
        #expect(ShopError(RedisError(kind: .connection, message: "refused")).code == ResponseCode.retry)
        #expect(ShopError(RedisError(kind: .connection, message: "refused")).retryAfter == 1)
        #expect(ShopError(PostgresError(kind: .invalidParameter, sqlState: nil, message: "nul")).status == .badRequest)
        #expect(ShopError(PostgresError(kind: .server, sqlState: "57P01", message: "terminating")).status == .serviceUnavailable)
        #expect(ShopError(PostgresError(kind: .server, sqlState: "42601", message: "syntax")).status == .internalServerError)
        #expect(ShopError(InputError("no")).status == .badRequest)
        #expect(ShopError(UpstreamError(service: "wms", status: nil, message: "down")).status == .serviceUnavailable)
    }
}
