import AITBCTestSupport
import AITBCWire
import Foundation
import Testing

@testable import AITBCDomain

/// The one commit path of a job's state: storage's compare-and-set decides; only then does the
/// queue change and the other instances hear of it.
@Suite struct JobCommitterTests {
    static let start = Date(timeIntervalSince1970: 1_795_000_000)
    static let key = MinerKey(tenantID: "t", minerID: "gpu-1")

    static func job(_ id: String, _ state: JobState, attempts: Int = 1) -> Job {
        Job(
            id: id, tenantID: "t", clientKeyID: "key_c", payload: ["n": 1], constraints: nil, state: state,
            assignedMinerID: state == .running ? "gpu-1" : nil, ttlSeconds: 900, requestedAt: start,
            expiresAt: start.addingTimeInterval(900), startedAt: state == .running ? start : nil, attempts: attempts)
    }

    /// A store holding `jobs`, a queue where the running ones run on gpu-1 and the queued ones wait,
    /// and a bus that records.
    static func setUp(_ jobs: [Job]) async -> (MemoryJobStore, JobQueue, RecordingBus, JobCommitter) {
        let store = MemoryJobStore(jobs)
        let queue = JobQueue(reconcileGrace: .zero, clock: TestClock())
        await queue.load(jobs: jobs.map(ActiveJob.init), miners: [])
        let bus = RecordingBus()
        return (store, queue, bus, JobCommitter(store: store, queue: queue, bus: bus))
    }

    @Test func aRefusedCompareAndSetLeavesTheQueueAndTheBusUntouched() async throws {
        // The assignment that was checked (attempt 1) was taken back and handed out again meanwhile.
        let checked = Self.job("j", .running, attempts: 1)
        let (store, queue, bus, committer) = await Self.setUp([checked])
        var reassigned = checked
        reassigned.attempts = 2
        _ = try await store.updateJob(reassigned, ifStateIn: [.running], attempt: nil)
        let completion = JobTransition.completed(result: "late", receipt: [:], metrics: nil, at: Self.start)
        #expect(try await committer.commit(completion, of: checked) == nil)
        #expect(store.stored("j") == reassigned)
        #expect(await queue.runningCount(Self.key) == 1)
        #expect(bus.published.isEmpty)
        // A job finished elsewhere meanwhile cannot be canceled over: the same.
        let queued = Self.job("q", .queued)
        let (otherStore, otherQueue, otherBus, other) = await Self.setUp([queued])
        var expired = queued
        expired.state = .expired
        _ = try await otherStore.updateJob(expired, ifStateIn: [.queued], attempt: nil)
        #expect(try await other.commit(.canceled(at: Self.start), of: queued) == nil)
        #expect(await otherQueue.depth(of: "t") == 1)
        #expect(otherBus.published.isEmpty)
    }

    @Test func aTransitionThatMayNotStartFromTheJobsStateIsNotWritten() async throws {
        let done = Self.job("j", .completed)
        let (store, _, bus, committer) = await Self.setUp([done])
        #expect(try await committer.commit(.requeued, of: done) == nil)
        #expect(store.updates == 0)
        #expect(bus.published.isEmpty)
    }

    @Test func aStorageFailureChangesNothingAndIsThrown() async {
        let running = Self.job("j", .running)
        let (store, queue, bus, committer) = await Self.setUp([running])
        store.setFailing(true)
        await #expect(throws: MemoryJobStore.Unavailable.self) { try await committer.commit(.requeued, of: running) }
        #expect(await queue.runningCount(Self.key) == 1)
        #expect(await queue.depth(of: "t") == 0)
        #expect(bus.published.isEmpty)
    }

    @Test func aCompletionIsStoredThenLeavesTheRunningSetThenIsAnnounced() async throws {
        let running = Self.job("j", .running)
        let (store, queue, bus, committer) = await Self.setUp([running])
        let completion = JobTransition.completed(result: "ok", receipt: [:], metrics: nil, at: Self.start)
        let completed = try #require(try await committer.commit(completion, of: running))
        #expect(store.stored("j") == completed)
        #expect(completed.state == .completed)
        #expect(await queue.runningCount(Self.key) == 0)
        #expect(bus.published == [.jobFinished(id: "j", tenantID: "t")])
    }

    @Test func aRequeueIsStoredThenQueuedAgainThenAnnounced() async throws {
        let running = Self.job("j", .running, attempts: 2)
        let (store, queue, bus, committer) = await Self.setUp([running])
        #expect(try await committer.commit(.requeued, of: running)?.state == .queued)
        #expect(store.stored("j")?.state == .queued)
        #expect(await queue.runningCount(Self.key) == 0)
        #expect(await queue.queuedJobs(of: "t").map(\.id) == ["j"])
        #expect(bus.published == [.jobQueued(id: "j")])
    }

    @Test func aQueuedJobCanceledLeavesTheQueue() async throws {
        let queued = Self.job("j", .queued)
        let (store, queue, bus, committer) = await Self.setUp([queued])
        #expect(try await committer.commit(.canceled(at: Self.start), of: queued)?.state == .canceled)
        #expect(store.stored("j")?.state == .canceled)
        #expect(await queue.depth(of: "t") == 0)
        #expect(bus.published == [.jobFinished(id: "j", tenantID: "t")])
    }

    @Test func anAssignmentIsAnnouncedAndTheQueuesHandOverStands() async throws {
        let queued = Self.job("j", .queued, attempts: 0)
        let (store, queue, bus, committer) = await Self.setUp([queued])
        await queue.update(
            Miner(
                id: "gpu-1", tenantID: "t", keyID: "key_m", capabilities: [:], concurrency: 1, region: nil, status: .online,
                registeredAt: Self.start, lastSeenAt: Self.start))
        #expect(await queue.takeMatching(for: Self.key)?.id == "j")
        let assigned = try #require(
            try await committer.commit(.assigned(to: Self.key, attempt: 1, at: Self.start), of: queued))
        #expect(store.stored("j") == assigned)
        #expect(await queue.runningCount(Self.key) == 1)
        #expect(bus.published == [.jobAssigned(id: "j", miner: Self.key)])
    }

    @Test func requeuingAMinersJobsSkipsThoseNoLongerItsAndCountsTheRest() async throws {
        let mine = Self.job("mine", .running)
        var elsewhere = Self.job("elsewhere", .running)
        let (store, queue, bus, committer) = await Self.setUp([mine, elsewhere])
        // Storage says "elsewhere" now runs on another miner: it is not this miner's to requeue.
        elsewhere.assignedMinerID = "gpu-2"
        _ = try await store.updateJob(elsewhere, ifStateIn: [.running], attempt: nil)
        #expect(await committer.requeueRunningJobs(of: Self.key) == 1)
        #expect(store.stored("mine")?.state == .queued)
        #expect(store.stored("elsewhere")?.state == .running)
        #expect(await queue.runningCount(Self.key) == 0)
        #expect(bus.published == [.jobQueued(id: "mine")])
    }
}
