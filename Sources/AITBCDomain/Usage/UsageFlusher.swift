import Logging
import ServiceLifecycle

/// The service that writes recorded usage to storage every `interval` and once more at shutdown.
public struct UsageFlusher: Service {
    let recorder: UsageRecorder
    let store: any UsageStore
    /// Quota and credit counters written behind on the same beat.
    let meters: SpendingMeters?
    let interval: Duration
    let logger: Logger

    public init(
        recorder: UsageRecorder, store: any UsageStore, meters: SpendingMeters? = nil, interval: Duration, logger: Logger
    ) {
        self.recorder = recorder
        self.meters = meters
        self.store = store
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            // Sleeping ends early at shutdown; the flush after the loop then writes the rest.
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            await flush()
        }
        await flush()
    }

    /// Writes what is pending; on failure keeps it for the next attempt.
    @discardableResult
    public func flush() async -> Bool {
        let metersWritten = await meters?.flush() ?? true
        let recorder = self.recorder, store = self.store, logger = self.logger
        return ((try? await recorder.flushes.run {
            let batch = recorder.drain()
            guard !batch.isEmpty else { return true }
            do {
                try await store.addUsage(batch)
                return true
            } catch {
                recorder.restore(batch)
                logger.warning("usage flush failed; will retry", metadata: ["error": "\(error)"])
                return false
            }
        }) ?? false) && metersWritten
    }
}
