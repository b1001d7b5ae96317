import AITBCDomain
import NIOPosix
import Synchronization

/// The threads that hash passwords: a few of their own, never the event loops nor the thread pool that
/// SQLite statements run on, behind a bounded queue. A hash asked for while `threads + queue` hashes are
/// already running or waiting is refused at once (429 with `details.bound = "password_hashing"`), so a
/// flood of sign-ins costs bounded CPU, memory and waiting, and every other request keeps its threads.
///
/// The threads start with the first hash (a coordinator that never hashes starts none) and stop at
/// ``shutdown()``.
public final class PasswordHashingPool: Sendable {
    /// Hashes computed at once.
    public let threads: Int
    /// Hashes that may wait for a thread; one more is refused.
    public let queue: Int

    private struct State {
        var pool: NIOThreadPool?
        /// Running and waiting.
        var admitted = 0
        var closed = false
    }

    private let state = Mutex(State())

    /// A pool of `threads` threads (at least 1) of its own and room for `queue` waiting hashes.
    public init(threads: Int, queue: Int) {
        self.threads = max(1, threads)
        self.queue = max(0, queue)
    }

    /// Hashes running or waiting now.
    public var inFlight: Int { state.withLock { $0.admitted } }

    /// Runs `work` on one of the pool's threads, or refuses at once when the queue is full.
    public func run<T: Sendable>(_ work: @escaping @Sendable () -> T) async throws -> T {
        let capacity = threads + queue, count = threads
        let pool = try state.withLock { state throws(CoordinatorError) -> NIOThreadPool in
            guard !state.closed else { throw CoordinatorError.passwordHashingStopped }
            guard state.admitted < capacity else { throw CoordinatorError.passwordHashingBusy }
            state.admitted += 1
            if let pool = state.pool { return pool }
            let pool = NIOThreadPool(numberOfThreads: count)
            pool.start()
            state.pool = pool
            return pool
        }
        defer { state.withLock { $0.admitted -= 1 } }
        return try await pool.runIfActive(work)
    }

    /// Refuses new hashes, lets the admitted ones finish, and stops the threads.
    public func shutdown() async {
        let pool = state.withLock { state in
            state.closed = true
            defer { state.pool = nil }
            return state.pool
        }
        try? await pool?.shutdownGracefully()
    }
}
