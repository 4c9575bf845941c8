import AMQP

extension Array where Element == AMQPDelivery {
    /// A batch handler's answer: each delivery the batch settled keeps its outcome (`decided`,
    /// one per delivery, nil where the batch did not settle it); each other goes to the
    /// single-message handler, one by one, in its own span, where a throw retries that delivery
    /// alone.
    package func settled(_ decided: [AMQPOutcome?], oneByOne single: (AMQPDelivery) async throws -> AMQPOutcome) async -> [AMQPOutcome] {
        var outcomes: [AMQPOutcome] = []
        outcomes.reserveCapacity(count)
        for (delivery, outcome) in zip(self, decided) {
            if let outcome {
                outcomes.append(outcome)
                continue
            }
            do {
                outcomes.append(try await ShopTracing.within(delivery) { try await single(delivery) })
            } catch {
                outcomes.append(.retry(reason: "\(error)"))
            }
        }
        return outcomes
    }
}
