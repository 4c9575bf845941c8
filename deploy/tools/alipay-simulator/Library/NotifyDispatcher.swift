import Alipay
import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceKit
import ServiceLifecycle
import Signing

/// Delivers notifies in the background with Alipay's retry schedule (scaled), until one is
/// answered with the seven bytes `success`. A `Service`.
final class NotifyDispatcher: Service, Sendable {
    struct Job: Sendable {
        let outTradeNo: String
        /// The refund this notify reports (its out_request_no); nil for the payment notify.
        /// Attempts are counted on the refund, so the two deliveries never mix.
        var outRequestNo: String? = nil
        let url: String
        let body: String
    }

    /// Alipay: 8 attempts over about 25 hours.
    static let schedule: [Double] = [0, 240, 600, 600, 3600, 7200, 21600, 54000]

    let http: HTTPClient
    let book: TradeBook
    let scale: Double
    let logger: Logger
    let jobs: AsyncStream<Job>
    let submit: AsyncStream<Job>.Continuation

    init(http: HTTPClient, book: TradeBook, scale: Double, logger: Logger) {
        self.http = http
        self.book = book
        self.scale = scale
        self.logger = logger
        (jobs, submit) = AsyncStream.makeStream(of: Job.self)
    }

    func enqueue(_ job: Job) { submit.yield(job) }

    func run() async throws {
        await withDiscardingTaskGroup { group in
            for await job in jobs.cancelOnGracefulShutdown() {
                group.addTask { await self.deliver(job) }
            }
        }
    }

    private func deliver(_ job: Job) async {
        for delay in Self.schedule {
            if delay > 0 { try? await Task.sleep(for: .milliseconds(Int(delay * scale * 1000))) }
            var request = HTTPClientRequest(url: job.url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded; charset=utf-8")
            request.body = .bytes(ByteBuffer(string: job.body))
            var answer = ""
            do {
                let response = try await http.execute(request, timeout: .seconds(15))
                answer = String(buffer: try await response.body.collect(upTo: 1024))
            } catch {
                answer = "error: \(error)"
            }
            let delivered = answer == "success"
            await book.attempted(job.outTradeNo, refund: job.outRequestNo, delivered: delivered)
            var metadata: Logger.Metadata = ["alipay.out_trade_no": "\(job.outTradeNo)", "answer": "\(answer.prefix(80))"]
            if let outRequestNo = job.outRequestNo { metadata["alipay.out_request_no"] = "\(outRequestNo)" }
            logger.info("simulator.notify.attempt", metadata: metadata)
            if delivered { return }
        }
    }
}
