import AMQP
import Contracts
import Pooling
import Prometheus

/// The metrics an operator alerts on (docs/OPERATIONS.md, "Metrics"): Prometheus names in base
/// units with `_total` on counters, and HELP lines. Made from the process's registry, so they
/// exist (at zero) from the start and a dashboard never has a hole.
package typealias ShopCounter = Prometheus.Counter
package typealias ShopGauge = Prometheus.Gauge

package enum ShopMetrics {
    static var registry: PrometheusCollectorRegistry { MetricsExport.registry }

    package static func counter(_ name: String, _ help: String, _ labels: [(String, String)] = []) -> Prometheus.Counter {
        registry.makeCounter(name: name, labels: labels, help: help)
    }

    package static func gauge(_ name: String, _ help: String, _ labels: [(String, String)] = []) -> Prometheus.Gauge {
        registry.makeGauge(name: name, labels: labels, help: help)
    }

    /// `gmall_amqp_deliveries_total{queue, outcome}`: one counter per outcome of `queue`'s consumer.
    package static func deliveries(queue: String) -> @Sendable (AMQPSettlement) -> Void {
        let counters = Dictionary(uniqueKeysWithValues: AMQPSettlement.allCases.map { outcome in
            (outcome, counter(
                "gmall_amqp_deliveries_total", "Deliveries a consumer settled, by queue and outcome (ack, retry, dead_letter).",
                [("queue", queue), ("outcome", outcome.rawValue)]))
        })
        return { outcome in counters[outcome]?.increment() }
    }

    /// `gmall_dependency_errors_total{dependency}`: requests answered 503 because PostgreSQL,
    /// Redis or RabbitMQ failed.
    package static let dependencyErrors: [String: Prometheus.Counter] = Dictionary(uniqueKeysWithValues: ["postgres", "redis", "rabbitmq"].map {
        ($0, counter("gmall_dependency_errors_total", "Requests answered 503 because a dependency failed, by dependency.", [("dependency", $0)]))
    })

    /// `gmall_outbox_unsent`, `gmall_outbox_oldest_unsent_age_seconds`.
    package static let outboxUnsent = gauge("gmall_outbox_unsent", "Outbox rows not yet published.")
    package static let outboxOldestAge = gauge(
        "gmall_outbox_oldest_unsent_age_seconds", "Age of the oldest outbox row not yet published (0 when none).")

    /// `gmall_pool_waiters{pool}`, `gmall_pool_waits_total{pool}`, `gmall_pool_wait_seconds_total{pool}`:
    /// callers waiting for a connection now, and how often and how long they waited (the average
    /// wait is the rate of the second over the rate of the first).
    package static func poolWaits(pool: String) -> @Sendable (PoolWait) -> Void {
        let waiters = gauge("gmall_pool_waiters", "Callers waiting for a pooled connection now, by pool.", [("pool", pool)])
        let waits = counter("gmall_pool_waits_total", "Times a caller had to wait for a pooled connection, by pool.", [("pool", pool)])
        let seconds = counter("gmall_pool_wait_seconds_total", "Time callers spent waiting for a pooled connection, by pool.", [("pool", pool)])
        return { event in
            switch event {
            case .waiting(let count):
                waiters.set(Int64(count))
            case .served(let after, let count):
                waiters.set(Int64(count))
                waits.increment()
                seconds.increment(by: Double(after.components.seconds) + Double(after.components.attoseconds) / 1e18)
            }
        }
    }

    /// `gmall_dead_letters{queue}`: messages waiting in a dead-letter queue.
    package static func deadLetters(queue: String) -> Prometheus.Gauge {
        gauge("gmall_dead_letters", "Messages in a dead-letter queue, waiting for an operator.", [("queue", queue)])
    }
}
