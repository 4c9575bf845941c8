import ServiceLifecycle

/// The rhythm of a background loop (the session keeper, the instance lease, the active query, the
/// dead-letter gauges): work, pause, work, … until graceful shutdown *or* cancellation. A
/// cancelled task's sleep returns at once, so a loop that looked only for graceful shutdown spun
/// at full CPU once its service group was cancelled (seen: seckill's keeper at 100 %, its pools
/// closed, the process never exiting).
package enum Periodic {
    /// True once the loop should end.
    package static var stopping: Bool { Task.isShuttingDownGracefully || Task.isCancelled }

    /// Runs `work` every `interval`, the first time at once (`startNow`) or after one pause.
    package static func run(
        isolation: isolated (any Actor)? = #isolation, every interval: Duration, startNow: Bool = true, _ work: () async -> Void
    ) async {
        var pause = !startNow
        while !stopping {
            if pause {
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
                if stopping { return }
            }
            pause = true
            await work()
        }
    }
}
