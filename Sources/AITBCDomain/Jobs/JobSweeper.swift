import Logging
import ServiceLifecycle

/// The service that expires queued jobs past their TTL and takes jobs back from silent miners,
/// every `interval`. The decisions use the injected clock; only the pacing is real time.
public struct JobSweeper: Service {
    let jobs: JobService
    let interval: Duration

    public init(jobs: JobService, interval: Duration) {
        self.jobs = jobs
        self.interval = interval
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            guard !Task.isShuttingDownGracefully else { break }
            await jobs.sweep()
        }
    }
}
