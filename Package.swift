// swift-tools-version:6.1
import PackageDescription

/// The gmall payment & seckill suite: four services (payment, oms, wms, seckill) over shared
/// contracts and thin wrappers around libpq, hiredis, librabbitmq and OpenSSL.
let package = Package(
    name: "gmall-suite",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "payment", targets: ["payment"]),
        .executable(name: "oms", targets: ["oms"]),
        .executable(name: "wms", targets: ["wms"]),
        .executable(name: "seckill", targets: ["seckill"]),
        .executable(name: "gmall-jwt", targets: ["gmall-jwt"]),
        .executable(name: "alipay-simulator", targets: ["alipay-simulator"]),
        .executable(name: "hello-bench", targets: ["hello-bench"]),
        .executable(name: "notify-bench", targets: ["notify-bench"]),
    ],
    // Exact versions: Package.resolved is kept out of git, so these
    // pins are what makes a Docker build or a fresh clone resolve what CI tested.
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", exact: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", exact: "2.1.1"),
        .package(url: "https://github.com/apple/swift-log.git", exact: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", exact: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", exact: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", exact: "2.4.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", exact: "1.8.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", exact: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio.git", exact: "2.101.3"),
        .package(url: "https://github.com/apple/swift-configuration.git", exact: "1.4.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", exact: "1.7.3"),
        // Only the OTLP/HTTP exporter: the gRPC one would add grpc-swift to every build.
        .package(url: "https://github.com/swift-otel/swift-otel.git", exact: "1.6.0", traits: ["OTLPHTTP"]),
    ],
    targets: [
        // MARK: C shims over Debian's libraries
        .systemLibrary(
            name: "CLibPQ", path: "Shared/CLibPQ", pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]),
        // hiredis's pkg-config adds -D_FILE_OFFSET_BITS=64, which SwiftPM refuses: no pkgConfig.
        .systemLibrary(
            name: "CHiredis", path: "Shared/CHiredis",
            providers: [.apt(["libhiredis-dev"])]),
        .systemLibrary(
            name: "CRabbitMQ", path: "Shared/CRabbitMQ", pkgConfig: "librabbitmq",
            providers: [.apt(["librabbitmq-dev"])]),
        .systemLibrary(
            name: "COpenSSL", path: "Shared/COpenSSL", pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]),

        // MARK: Swift wrappers (the only importers of the C modules)
        .target(name: "Pooling", path: "Shared/Pooling"),
        .target(
            name: "Postgres", dependencies: [
                "CLibPQ", "Pooling",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ], path: "Shared/Postgres"),
        .target(
            name: "Redis", dependencies: [
                "CHiredis", "Pooling",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ], path: "Shared/Redis"),
        .target(
            name: "AMQP", dependencies: [
                "CRabbitMQ", "Pooling",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ], path: "Shared/AMQP"),
        .target(name: "Signing", dependencies: ["COpenSSL"], path: "Shared/Signing"),
        .target(name: "Contracts", path: "Shared/Contracts"),
        .target(
            name: "ServiceKit", dependencies: [
                "Pooling", "Postgres", "Redis", "AMQP", "Contracts", "Signing",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "OTel", package: "swift-otel"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ], path: "Shared/ServiceKit"),

        // MARK: Services: a library each (buildApplication) and a thin executable
        // Alipay's wire rules (sign content, form bodies, signed responses), shared by payment and
        // the simulator that plays Alipay in tests.
        .target(name: "Alipay", dependencies: ["Signing"], path: "Services/payment/Alipay"),
        .target(
            name: "PaymentService", dependencies: ["Alipay", "ServiceKit", "Signing",
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "AsyncHTTPClient", package: "async-http-client")],
            path: "Services/payment/Library"),
        .executableTarget(name: "payment", dependencies: ["PaymentService"], path: "Services/payment/Main"),
        .target(name: "OrderService", dependencies: ["ServiceKit", "Postgres", "Redis", "AMQP", .product(name: "AsyncHTTPClient", package: "async-http-client")], path: "Services/oms/Library"),
        .executableTarget(name: "oms", dependencies: ["OrderService"], path: "Services/oms/Main"),
        .target(name: "WareService", dependencies: ["ServiceKit"], path: "Services/wms/Library"),
        .executableTarget(name: "wms", dependencies: ["WareService"], path: "Services/wms/Main"),
        .target(name: "SeckillService", dependencies: ["ServiceKit", "Signing", "Postgres", "Redis", "AMQP", .product(name: "AsyncHTTPClient", package: "async-http-client")], path: "Services/seckill/Library"),
        .executableTarget(name: "seckill", dependencies: ["SeckillService"], path: "Services/seckill/Main"),

        // MARK: Tools
        .target(
            name: "AlipaySimulator", dependencies: ["Alipay", "Signing", "Contracts", "ServiceKit",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client")],
            path: "deploy/tools/alipay-simulator/Library"),
        .executableTarget(name: "alipay-simulator", dependencies: ["AlipaySimulator"], path: "deploy/tools/alipay-simulator/Main"),
        .executableTarget(
            name: "gmall-jwt", dependencies: ["Signing",
                .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "deploy/tools/gmall-jwt"),

        // MARK: Benchmarks
        .executableTarget(
            name: "hello-bench", dependencies: [.product(name: "Hummingbird", package: "hummingbird")],
            path: "deploy/bench/hello"),
        .executableTarget(
            name: "notify-bench", dependencies: [
                "Alipay", "AlipaySimulator", "AMQP", "Postgres", "ServiceKit", "Signing", "Contracts",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ], path: "deploy/bench/notify"),

        // MARK: Tests
        .target(name: "TestSupport", dependencies: ["ServiceKit"], path: "Tests/TestSupport"),
        .testTarget(
            name: "SharedTests", dependencies: ["Alipay", "Postgres", "Redis", "AMQP", "Signing", "Contracts", "ServiceKit", "TestSupport"],
            path: "Tests/SharedTests"),
        .testTarget(
            name: "ServiceTests", dependencies: [
                "Alipay", "PaymentService", "OrderService", "WareService", "SeckillService", "ServiceKit", "AlipaySimulator", "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ], path: "Tests/ServiceTests"),
    ]
)
