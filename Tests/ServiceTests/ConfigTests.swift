import Foundation
import OrderService
import PaymentService
import SeckillService
import ServiceKit
import Testing
import WareService

@Suite("Configuration: a bad value stops the service with a clear message, secrets never printed, every key documented")
struct ConfigTests {
    @Test("values that cannot be used are refused together, each named, instead of falling back to a default")
    func badValuesRefused() throws {
        let env = ["GMALL_PG_POOL_SIZE": "abc", "GMALL_AMQP_QUORUM_QUEUES": "maybe", "GMALL_AMQP_RETRY_DELAYS_MS": "1000,soon", "GMALL_LOG_LEVEL": "loud"]
        do {
            _ = try WareServiceConfig(environment: env)
            Issue.record("a configuration with bad values was accepted")
        } catch let error as ConfigError {
            for name in ["GMALL_PG_POOL_SIZE=abc", "GMALL_AMQP_QUORUM_QUEUES=maybe", "GMALL_AMQP_RETRY_DELAYS_MS=1000,soon", "GMALL_LOG_LEVEL=loud"] {
                #expect(error.description.contains(name), "\(error)")
            }
        }
        #expect(throws: ConfigError.self) { try SeckillServiceConfig(environment: ["SECKILL_PAY_WAIT_MS": "3s", "GMALL_JWT_PUBLIC_KEY": "x"]) }
        #expect(throws: ConfigError.self) { try WareServiceConfig(environment: ["GMALL_PG_POOL_SIZE": "0"]) }
        // A batch past what wms takes in one call, or no batch at all: refused, not quietly clamped.
        for (name, value) in [("OMS_SECKILL_BATCH", "1000"), ("OMS_SECKILL_BATCH", "0"), ("OMS_SECKILL_PARALLELISM", "0")] {
            #expect(throws: ConfigError.self) { try OrderServiceConfig(environment: [name: value, "GMALL_JWT_PUBLIC_KEY": "x"]) }
        }
        #expect(try OrderServiceConfig(environment: ["OMS_SECKILL_BATCH": "500", "GMALL_JWT_PUBLIC_KEY": "x"]).seckillBatch == 500)
    }

    @Test("tracing is off by default; an OTLP setting the exporter could not use is refused, not logged and ignored")
    func tracingSettings() throws {
        #expect(try WareServiceConfig(environment: [:]).shared.tracing.endpoint == nil)
        let on = try WareServiceConfig(environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"]).shared.tracing
        #expect(on.endpoint == "http://collector:4318")
        #expect(on.serviceName == "gmall-wms")
        let off = try WareServiceConfig(environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_SDK_DISABLED": "true"])
        #expect(off.shared.tracing.endpoint == nil)
        do {
            _ = try WareServiceConfig(environment: [
                "OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_TRACES_SAMPLER": "sometimes",
                "OTEL_TRACES_SAMPLER_ARG": "2",
            ])
            Issue.record("unusable tracing settings were accepted")
        } catch let error as ConfigError {
            for name in ["OTEL_EXPORTER_OTLP_ENDPOINT=collector:4318", "OTEL_EXPORTER_OTLP_PROTOCOL=grpc", "OTEL_TRACES_SAMPLER=sometimes", "OTEL_TRACES_SAMPLER_ARG=2"] {
                #expect(error.description.contains(name), "\(error)")
            }
        }
        let headers = try WareServiceConfig(environment: ["OTEL_EXPORTER_OTLP_HEADERS": "authorization=Bearer%20s3cret"]).shared.effective
        #expect(headers["OTEL_EXPORTER_OTLP_HEADERS"] == "<redacted>")
    }

    @Test("the effective configuration shows what was set and redacts secrets")
    func effectiveRedactsSecrets() throws {
        let config = try WareServiceConfig(environment: [
            "GMALL_PG_URL": "postgresql://shop:hunter2@db/guli_wms", "GMALL_PG_POOL_SIZE": "12", "GMALL_AMQP_PASSWORD": "s3cret",
            "GMALL_SERVICE_KEY": "0123456789abcdef0123456789abcdef",
        ])
        let effective = config.shared.effective
        #expect(effective["GMALL_PG_POOL_SIZE"] == "12")
        #expect(config.shared.postgresPoolSize == 12)
        for secret in ["GMALL_PG_URL", "GMALL_AMQP_PASSWORD", "GMALL_SERVICE_KEY"] {
            #expect(effective[secret] == "<redacted>", "\(secret)")
        }
        #expect(!effective.values.contains { $0.contains("hunter2") || $0.contains("s3cret") || $0.contains("0123456789abcdef") })
    }

    @Test("every variable a configuration type reads is documented in docs/OPERATIONS.md")
    func keysDocumented() throws {
        let root = ServiceConfig.repositoryRoot
        let docs = try String(contentsOfFile: root + "/docs/OPERATIONS.md", encoding: .utf8)
        let files = [
            "Shared/ServiceKit/ServiceConfig.swift", "Shared/ServiceKit/Tracing/TracingConfig.swift", "Services/payment/Library/PaymentServiceConfig.swift",
            "Services/oms/Library/OrderServiceConfig.swift", "Services/seckill/Library/SeckillServiceConfig.swift",
            "Services/wms/Library/WareServiceConfig.swift", "deploy/tools/alipay-simulator/Library/SimulatorConfig.swift",
        ]
        let read = try NSRegularExpression(pattern: #"(?:env\[|env\.(?:int|bool|ints)\(|secretOrFile\()"([A-Z][A-Z0-9_]+)""#)
        var names: Set<String> = []
        for file in files {
            let text = try String(contentsOfFile: root + "/" + file, encoding: .utf8)
            for match in read.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                names.insert(String(text[Range(match.range(at: 1), in: text)!]))
            }
        }
        #expect(names.count > 30, "\(names.count) names found: the pattern no longer matches how configs read")
        for name in names.sorted() {
            #expect(docs.contains("`\(name)") || docs.contains(name + "`") || docs.contains(name + " "), "\(name) is read but not in docs/OPERATIONS.md")
        }
    }
}
