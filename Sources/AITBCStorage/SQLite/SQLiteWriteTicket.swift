import AITBCDomain
import Synchronization

/// One caller's write in the group-commit queue: its body, the caller waiting for it and, once the
/// body has run, its outcome, kept until the transaction holding it has committed (or not).
final class SQLiteWriteTicket<T: Sendable>: SQLiteQueuedWrite {
    private let body: @Sendable (SQLiteHandle) throws -> T
    private let caller: CheckedContinuation<T, any Error>
    private let outcome = Mutex<Result<T, any Error>?>(nil)

    init(body: @escaping @Sendable (SQLiteHandle) throws -> T, caller: CheckedContinuation<T, any Error>) {
        self.body = body
        self.caller = caller
    }

    func perform(on handle: SQLiteHandle) -> (any Error)? {
        do {
            let value = try body(handle)
            outcome.withLock { $0 = .success(value) }
            return nil
        } catch {
            outcome.withLock { $0 = .failure(error) }
            return error
        }
    }

    func settle(batchFailure: (any Error)?) {
        let result: Result<T, any Error> = outcome.withLock { kept in
            switch (kept, batchFailure) {
            case (.failure(let own)?, _): .failure(own)
            case (_, let failure?): .failure(failure)
            case (.success(let value)?, nil): .success(value)
            // Unreachable: a batch that commits has run every body.
            case (nil, nil): .failure(StorageError.unavailable)
            }
        }
        caller.resume(with: result)
    }
}
