import SQLiteNIO

/// A ``SQLiteHandle`` on a thread of its own: every call to the handle — its opening, every job,
/// its closing — runs on that one thread, one job at a time, in the order they were submitted.
/// A job is synchronous: once started it runs to its end, so a caller's cancellation can never
/// stop it halfway (with a transaction open, or a statement not reset).
final class SQLiteWorker: Sendable {
    private let thread: NIOThreadPool
    private let handle: SQLiteHandle

    private init(thread: NIOThreadPool, handle: SQLiteHandle) {
        self.thread = thread
        self.handle = handle
    }

    /// Starts a thread and opens the handle on it (`path` nil: a private in-memory database).
    static func open(path: String?, capacity: Int = 96) async throws -> SQLiteWorker {
        let thread = NIOThreadPool(numberOfThreads: 1)
        thread.start()
        do {
            let handle = try await thread.runIfActive { try SQLiteHandle.open(path: path, capacity: capacity) }
            return SQLiteWorker(thread: thread, handle: handle)
        } catch {
            try? await thread.shutdownGracefully()
            throw error
        }
    }

    /// Runs `body` with the handle on the worker's thread and returns its result.
    func run<T: Sendable>(_ body: @Sendable @escaping (SQLiteHandle) throws -> T) async throws -> T {
        let handle = self.handle
        return try await thread.runIfActive { try body(handle) }
    }

    /// Closes the handle (after the jobs already submitted) and stops the thread.
    func close(_ last: (@Sendable (SQLiteHandle) -> Void)? = nil) async {
        let handle = self.handle
        _ = try? await thread.runIfActive {
            last?(handle)
            handle.close()
        }
        try? await thread.shutdownGracefully()
    }
}
