@testable import AITBCStorage
import Synchronization
import Testing

/// The long-lived work under PostgreSQL's pool and the bus's listener: run in the task of whoever
/// runs it, once however many hold it, and ended by `stop()` for good.
@Suite(.timeLimit(.minutes(1))) struct SharedRunTests {
    /// Counts the work's starts and whether it runs now.
    final class Work: Sendable {
        let state = Mutex((starts: 0, running: false))

        func run() async {
            state.withLock {
                $0.starts += 1
                $0.running = true
            }
            while !Task.isCancelled { try? await Task.sleep(for: .milliseconds(5)) }
            state.withLock { $0.running = false }
        }

        var starts: Int { state.withLock { $0.starts } }
        var isRunning: Bool { state.withLock { $0.running } }
    }

    static func until(_ condition: () -> Bool) async throws {
        while !condition() { try await Task.sleep(for: .milliseconds(5)) }
    }

    @Test func twoCallersRunTheWorkOnceAndStopEndsBothAndEveryLaterRun() async throws {
        let shared = SharedRun()
        let work = Work()
        let first = Task { await shared.run { await work.run() } }
        try await Self.until { work.isRunning }
        let second = Task { await shared.run { await work.run() } }
        await shared.stop()
        #expect(!work.isRunning)
        await first.value
        await second.value
        #expect(work.starts == 1)
        await shared.run { await work.run() }
        #expect(work.starts == 1)
    }

    @Test func aCancelledRunEndsItsWorkAndALaterRunStartsItAgain() async throws {
        let shared = SharedRun()
        let work = Work()
        let first = Task { await shared.run { await work.run() } }
        try await Self.until { work.isRunning }
        first.cancel()
        await first.value
        #expect(!work.isRunning)
        let second = Task { await shared.run { await work.run() } }
        try await Self.until { work.starts == 2 && work.isRunning }
        await shared.stop()
        await second.value
        #expect(!work.isRunning)
    }
}
