import Logging
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// Shuts the coordinator down, as SIGTERM does, once the process that started it has gone (its
/// parent is no longer `parent`): a test harness that crashes or is killed leaves no server behind.
struct ParentWatch: Service {
    let parent: pid_t
    let logger: Logger
    var interval: Duration = .milliseconds(250)

    func run() async throws {
        // An orphan is adopted by another process, so its parent id changes. Checking that is one
        // system call, and unlike a parent-death signal it is not tied to the thread that spawned us.
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            if getppid() != parent {
                logger.notice("the parent process is gone: shutting down", metadata: ["parent_pid": "\(parent)"])
                kill(getpid(), SIGTERM)
                // A service that returns first would end the others by cancellation, not by the drain.
                try? await gracefulShutdown()
                return
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}
