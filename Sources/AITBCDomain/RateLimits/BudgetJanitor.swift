import Logging
import ServiceLifecycle

/// The service that keeps the shared budget table to the budgets in use: every `interval` it
/// forgets the budgets that are full again. Every instance may run it; a deletion is harmless to
/// repeat, and a budget charged meanwhile is not full and stays.
public struct BudgetJanitor: Service {
    let limit: any SharedRateLimit
    let interval: Duration
    let logger: Logger

    public init(limit: any SharedRateLimit, interval: Duration = .seconds(60), logger: Logger) {
        self.limit = limit
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            guard !Task.isShuttingDownGracefully, !Task.isCancelled else { break }
            if let forgotten = try? await limit.forgetFullBudgets(), forgotten > 0 {
                logger.debug("forgot full rate budgets", metadata: ["count": "\(forgotten)"])
            }
        }
    }
}
