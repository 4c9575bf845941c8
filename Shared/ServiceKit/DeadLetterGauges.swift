import AMQP
import Logging
import Prometheus
import ServiceLifecycle

/// Samples the dead-letter queues of this service's consumers every `interval` into
/// `gmall_dead_letters{queue}`: a message there waits for an operator, so it is worth an alert.
/// One short connection per sample; a broker that cannot be asked leaves the last values. A `Service`.
package final class DeadLetterGauges: Service, Sendable {
    private let endpoint: AMQPEndpoint
    private let gauges: [(queue: String, gauge: Prometheus.Gauge)]
    private let interval: Duration
    private let logger: Logger

    package init(endpoint: AMQPEndpoint, queues: [String], interval: Duration = .seconds(15), logger: Logger) {
        self.endpoint = endpoint
        gauges = queues.map { ($0 + ".dlq", ShopMetrics.deadLetters(queue: $0 + ".dlq")) }
        self.interval = interval
        self.logger = logger
    }

    package func run() async throws {
        await Periodic.run(every: interval, startNow: false) {
            do {
                let connection = try await AMQPConnection.connect(endpoint)
                do {
                    for (queue, gauge) in gauges { gauge.set(Int64(try await connection.messageCount(queue: queue))) }
                } catch {
                    await connection.close()
                    throw error
                }
                await connection.close()
            } catch {
                logger.debug("amqp.dead_letters.unsampled", error: error)
            }
        }
    }
}
