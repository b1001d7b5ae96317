import AITBCTestSupport
import AITBCWire
import Foundation
import Testing

@testable import AITBCDomain

/// A submission while a poll waits for it is stored once, already RUNNING on that poll's miner, and
/// the poll gets it as stored once that write has returned: no read and no second write between
/// the submission and the miner.
@Suite(.timeLimit(.minutes(1))) struct JobHandoverTests {
    static let start = Date(timeIntervalSince1970: 1_795_000_000)
    static let key = MinerKey(tenantID: "t", minerID: "gpu-1")

    static func job(_ id: String) -> Job {
        Job(
            id: id, tenantID: "t", clientKeyID: "key_c", payload: ["n": 1], constraints: nil, ttlSeconds: 900,
            requestedAt: start, expiresAt: start.addingTimeInterval(900))
    }

    /// A queue with gpu-1 online, a poll of it waiting (until 30 s on `clock`), a store and a committer.
    static func waitingPoll(
        clock: TestClock
    ) async -> (MemoryJobStore, JobQueue, RecordingBus, JobCommitter, Task<QueuedJob?, Never>) {
        let store = MemoryJobStore()
        let queue = JobQueue(reconcileGrace: .zero, clock: clock)
        await queue.update(
            Miner(
                id: "gpu-1", tenantID: "t", keyID: "key_m", capabilities: [:], concurrency: 1, region: nil, status: .online,
                registeredAt: start, lastSeenAt: start))
        let deadline = queue.clock.now + .seconds(30)
        let poll = Task { await queue.next(for: key, until: deadline) }
        await clock.waitForSleepers(1)
        let bus = RecordingBus()
        return (store, queue, bus, JobCommitter(store: store, queue: queue, bus: bus), poll)
    }

    @Test func aSubmissionToAWaitingPollIsOneWriteAndThePollGetsTheJobAsStored() async throws {
        let clock = TestClock()
        let (store, queue, bus, committer, poll) = await Self.waitingPoll(clock: clock)
        #expect(await queue.reserveQueued(of: "t", limit: 10) == nil)
        let (outcome, stored) = try await committer.insert(Self.job("j"), idempotency: nil)
        #expect(outcome == .inserted)
        #expect(stored.state == .running)
        #expect(stored.assignedMinerID == "gpu-1")
        #expect(stored.attempts == 1)
        #expect(stored.startedAt == Self.start)
        // One call to storage: the insert, already assigned. No read, no compare-and-set after it.
        #expect(store.calls == 1)
        #expect(store.updates == 0)
        #expect(store.stored("j") == stored)
        #expect(await poll.value?.id == "j")
        #expect(await queue.takeHandedOver("j") == stored)
        #expect(await queue.takeHandedOver("j") == nil)
        #expect(await queue.runningCount(Self.key) == 1)
        #expect(await queue.depth(of: "t") == 0)
        #expect(bus.published == [.jobAssigned(id: "j", miner: Self.key)])
        // The place held for the submission is given back: ten more fit under a limit of ten.
        for _ in 0..<10 { #expect(await queue.reserveQueued(of: "t", limit: 10) == nil) }
    }

    @Test func aPollWhoseJobCouldNotBeStoredWaitsOnForTheNext() async throws {
        let clock = TestClock()
        let (store, queue, bus, committer, poll) = await Self.waitingPoll(clock: clock)
        store.setFailing(true)
        await #expect(throws: MemoryJobStore.Unavailable.self) { try await committer.insert(Self.job("lost"), idempotency: nil) }
        #expect(await queue.runningCount(Self.key) == 0)
        #expect(await queue.waitingPolls() == 1)
        store.setFailing(false)
        let (_, stored) = try await committer.insert(Self.job("next"), idempotency: nil)
        #expect(await poll.value?.id == "next")
        #expect(stored.state == .running)
        #expect(bus.published == [.jobAssigned(id: "next", miner: Self.key)])
    }

    @Test func aPollWhoseDeadlinePassesWhileItsJobIsStoredStillGetsTheJob() async throws {
        let clock = TestClock()
        let (_, queue, _, _, poll) = await Self.waitingPoll(clock: clock)
        let job = Self.job("j")
        let claim = try #require(await queue.claimWaiter(for: QueuedJob(job)))
        #expect(claim.miner == Self.key)
        // The job is being written as assigned to it: the deadline passing must not end the poll
        // with nothing, or a job stored RUNNING on this miner would never reach it.
        clock.advance(by: .seconds(31))
        while await !queue.hasEnded(claim) { await Task.yield() }
        var assigned = job
        assigned.state = .running
        assigned.assignedMinerID = "gpu-1"
        assigned.attempts = 1
        await queue.deliver(assigned, to: claim, reserved: false)
        #expect(await poll.value?.id == "j")
        #expect(await queue.waitingPolls() == 0)
    }

    @Test func aClaimGivenUpAfterThePollsDeadlineEndsThePollWithNothing() async throws {
        let clock = TestClock()
        let (_, queue, _, _, poll) = await Self.waitingPoll(clock: clock)
        let claim = try #require(await queue.claimWaiter(for: QueuedJob(Self.job("j"))))
        #expect(await queue.runningCount(Self.key) == 1)
        clock.advance(by: .seconds(31))
        while await !queue.hasEnded(claim) { await Task.yield() }
        await queue.release(claim, of: "j")
        #expect(await poll.value == nil)
        #expect(await queue.runningCount(Self.key) == 0)
        #expect(await queue.waitingPolls() == 0)
    }

    @Test func aClaimedPollIsNotHandedASecondJob() async throws {
        let clock = TestClock()
        let (_, queue, _, _, poll) = await Self.waitingPoll(clock: clock)
        let claim = try #require(await queue.claimWaiter(for: QueuedJob(Self.job("first"))))
        #expect(await queue.claimWaiter(for: QueuedJob(Self.job("second"))) == nil)
        await queue.enqueue(QueuedJob(Self.job("queued")))
        #expect(await queue.depth(of: "t") == 1)
        await queue.release(claim, of: "first")
        // Given back before its deadline, it waits on and takes what was queued meanwhile.
        #expect(await poll.value?.id == "queued")
        #expect(await queue.depth(of: "t") == 0)
    }
}
