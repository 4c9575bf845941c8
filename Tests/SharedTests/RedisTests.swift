import Foundation
import Redis
import Testing

@Suite("Redis wrapper against the real server")
struct RedisTests {
    @Test("commands are argument arrays: binary-safe values with spaces and quotes")
    func argumentArrays() async throws {
        let redis = TestServers.redis()
        // Closed however the test ends (`close()` is synchronous, so `defer` can call it): a pool
        // dropped with open connections asserts, which would crash the test process.
        defer { redis.close() }
        let key = "test:{args}:\(UUID().uuidString)"
        try await redis.send(["SET", key, "a b \"c\" 谷粒", "EX", "60"])
        #expect(try await redis.send(["GET", key]).string == "a b \"c\" 谷粒")
        #expect(try await redis.send(["GET", key + ":missing"]) == .null)
    }

    @Test("EVALSHA after SCRIPT FLUSH still works (loads the script on NOSCRIPT)")
    func evalshaAfterFlush() async throws {
        let redis = TestServers.redis()
        defer { redis.close() }
        let script = RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1])")
        let key = "test:{eval}:\(UUID().uuidString)"
        #expect(try await redis.evaluate(script, keys: [key], arguments: ["2"]).int == 2)
        try await redis.send(["SCRIPT", "FLUSH"])
        #expect(try await redis.evaluate(script, keys: [key], arguments: ["3"]).int == 5)
        try await redis.send(["DEL", key])
    }

    @Test("a server error reply is a typed error, not a crash")
    func errorReply() async throws {
        let redis = TestServers.redis()
        defer { redis.close() }
        let key = "test:{err}:\(UUID().uuidString)"
        try await redis.send(["SET", key, "x"])
        do {
            try await redis.send(["LPUSH", key, "y"])
            Issue.record("WRONGTYPE not reported")
        } catch let error as RedisError {
            #expect(error.kind == .server)
            #expect(error.message.hasPrefix("WRONGTYPE"))
        }
    }

    @Test("the script SHA1 is the one Redis computes")
    func sha1MatchesRedis() async throws {
        let redis = TestServers.redis()
        defer { redis.close() }
        let script = RedisScript("return 'gmall 秒杀'")
        #expect(try await redis.send(["SCRIPT", "LOAD", script.source]).string == script.sha1)
    }

    @Test("concurrent callers sharing one pipelined connection each get their own reply, errors included")
    func pipelinedRepliesLineUp() async throws {
        let redis = RedisPool(host: "127.0.0.1", port: TestServers.redisPort, maxConnections: 1)
        defer { redis.close() }
        let prefix = "test:{pipe}:\(UUID().uuidString)"
        let wrongType = prefix + ":list"
        try await redis.send(["SET", wrongType, "x", "EX", "60"])
        let outcomes = try await withThrowingTaskGroup(of: (Int, String).self) { group in
            for i in 0..<2_000 {
                group.addTask {
                    if i % 10 == 0 {
                        do { try await redis.send(["LPUSH", wrongType, "y"]); return (i, "no error") } catch let e as RedisError { return (i, e.kind == .server ? "error" : "\(e)") }
                    }
                    try await redis.send(["SET", "\(prefix):\(i)", "v\(i)", "EX", "60"])
                    return (i, try await redis.send(["GET", "\(prefix):\(i)"]).string ?? "nil")
                }
            }
            return try await group.reduce(into: [Int: String]()) { $0[$1.0] = $1.1 }
        }
        #expect(outcomes.count == 2_000)
        for (i, outcome) in outcomes { #expect(outcome == (i % 10 == 0 ? "error" : "v\(i)")) }
    }
}
