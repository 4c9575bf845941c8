import AMQP
import Contracts
import Foundation
import Hummingbird

/// One dead letter as the admin endpoint shows it.
struct DeadLetterView: Codable, Sendable {
    let messageId: String?
    let reason: String?
    /// Attempts made before it was dead-lettered.
    let attempts: Int?
    let routingKey: String?
    let body: String
}

extension Router where Context == ShopRequestContext {
    /// Operator endpoints over the dead-letter queues (header `X-Admin-Token: $GMALL_ADMIN_TOKEN`):
    /// - `GET  /<service>/admin/dlq`: ready messages per dead-letter queue
    /// - `GET  /<service>/admin/dlq/<QUEUE>.dlq?limit=20`: look at messages (they stay queued)
    /// - `POST /<service>/admin/dlq/<QUEUE>.dlq/replay`: publish each back to its route, with confirms
    /// On the internal listener only, behind `AdminAuthMiddleware`.
    package func addDeadLetterAdmin(service: String, infrastructure: Infrastructure, token: String?) {
        let endpoint = infrastructure.config.amqp
        @Sendable func route(_ context: ShopRequestContext) throws -> Messaging.Route {
            let queue = try context.parameters.require("queue")
            guard let route = Messaging.consumed.first(where: { $0.deadLetterQueue == queue }) else {
                throw ShopError.notFound("no dead-letter queue \(queue.prefix(80))")
            }
            return route
        }
        let admin = group("/\(service)/admin").add(middleware: AdminAuthMiddleware(token: token))
        admin.get("dlq") { _, _ -> Response in
            let connection = try await AMQPConnection.connect(endpoint)
            var counts: [String: Int] = [:]
            do {
                for route in Messaging.consumed { counts[route.deadLetterQueue] = try await connection.messageCount(queue: route.deadLetterQueue) }
            } catch {
                await connection.close()
                throw error
            }
            await connection.close()
            return try ShopJSON.response(ResponseVo.ok(counts))
        }
        admin.get("dlq/:queue") { request, context -> Response in
            let route = try route(context)
            let limit = max(1, min(request.uri.queryParameters.get("limit", as: Int.self) ?? 20, 500))
            // Messages taken with basic.get and never acked go back to the queue when the connection closes.
            let connection = try await AMQPConnection.connect(endpoint)
            var letters: [DeadLetterView] = []
            // Closed on every path (`defer` cannot await): a connection dropped unclosed asserts.
            do {
                while letters.count < limit, let d = try await connection.get(queue: route.deadLetterQueue) {
                    letters.append(DeadLetterView(
                        messageId: d.messageID, reason: d.headers["x-death-reason"], attempts: d.headers["x-attempt"].flatMap { Int($0) }, routingKey: d.headers["x-original-routing-key"] ?? route.routingKey,
                        body: String(decoding: d.body, as: UTF8.self)))
                }
            } catch {
                await connection.close()
                throw error
            }
            await connection.close()
            return try ShopJSON.response(ResponseVo.ok(letters))
        }
        admin.post("dlq/:queue/replay") { _, context -> Response in
            let route = try route(context)
            let connection = try await AMQPConnection.connect(endpoint)
            var replayed = 0
            // Closed on every path (`defer` cannot await): a connection dropped unclosed asserts.
            // A message taken but not yet acked when a publish fails goes back to the queue then.
            do {
                // Only the messages present now: one that fails again and comes back is not replayed
                // in a loop by this same call.
                let present = try await connection.messageCount(queue: route.deadLetterQueue)
                while replayed < present, let d = try await connection.get(queue: route.deadLetterQueue) {
                    try await infrastructure.publisher.publish(AMQPMessage(
                        exchange: Messaging.exchange, routingKey: route.routingKey, body: d.body,
                        messageID: d.messageID ?? UUID().uuidString, headers: ["x-replayed-from": route.deadLetterQueue, "x-attempt": "1"]))
                    try await connection.ack(d.deliveryTag)
                    replayed += 1
                }
            } catch {
                await connection.close()
                throw error
            }
            await connection.close()
            context.logger.info("dlq.replayed", metadata: ["messaging.destination.name": "\(route.deadLetterQueue)", "messaging.batch.message_count": "\(replayed)"])
            return try ShopJSON.response(ResponseVo.ok(["replayed": replayed]))
        }
    }
}
