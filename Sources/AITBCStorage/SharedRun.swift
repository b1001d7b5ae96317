import ServiceLifecycle
import Synchronization

/// Long-lived work (a connection pool, a listener) that every caller of ``run(_:)`` keeps going: the
/// first caller runs it, callers that come while it runs wait beside it. Each caller returns at its
/// own cancellation or graceful shutdown, or when ``stop()`` ends them all for good. So the work
/// runs in the task of whoever started it (structured), and start-up, an application's service
/// group and a test can each hold it without running it twice.
///
/// A caller that joined keeps waiting if the one running the work ends first; the callers here end
/// in the reverse order of their start (start-up, then the application's services).
final class SharedRun: Sendable {
    private struct State {
        var stopped = false
        /// What ends each caller now in `run`, by caller.
        var callers: [ObjectIdentifier: Latch] = [:]
        /// Opened once the running work has ended; nil while nobody runs it.
        var workEnded: Latch?
    }

    private let state = Mutex(State())

    /// Whether ``stop()`` was called.
    var isStopped: Bool { state.withLock { $0.stopped } }

    /// Runs `work` until this caller ends, unless another caller runs it already; then just waits.
    /// `work` is cancelled when its caller ends.
    func run(_ work: @escaping @Sendable () async -> Void) async {
        let end = Latch()
        let workEnded = Latch()
        let runsWork: Bool? = state.withLock { state in
            guard !state.stopped else { return nil }
            state.callers[ObjectIdentifier(end)] = end
            guard state.workEnded == nil else { return false }
            state.workEnded = workEnded
            return true
        }
        guard let runsWork else { return }
        await withDiscardingTaskGroup { group in
            if runsWork { group.addTask { await work() } }
            await withTaskCancellationOrGracefulShutdownHandler {
                await end.wait()
            } onCancelOrGracefulShutdown: {
                end.open()
            }
            group.cancelAll()
        }
        state.withLock { state in
            state.callers[ObjectIdentifier(end)] = nil
            if runsWork { state.workEnded = nil }
        }
        if runsWork { workEnded.open() }
    }

    /// Ends every caller, now and later, and returns once the work has ended.
    func stop() async {
        let (callers, workEnded) = state.withLock { state in
            state.stopped = true
            return (Array(state.callers.values), state.workEnded)
        }
        for caller in callers { caller.open() }
        await workEnded?.wait()
    }
}

/// A switch tasks wait for: once open, it stays open.
final class Latch: Sendable {
    private struct State {
        var isOpen = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    /// Opens the latch: every waiter goes on.
    func open() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard !state.isOpen else { return [] }
            state.isOpen = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once the latch is open.
    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let isOpen = state.withLock { state in
                if !state.isOpen { state.waiters.append(continuation) }
                return state.isOpen
            }
            if isOpen { continuation.resume() }
        }
    }
}
