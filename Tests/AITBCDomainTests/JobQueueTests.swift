import AITBCTestSupport
import AITBCWire
import Foundation
import Testing

@testable import AITBCDomain

/// The in-memory queue: oldest matching job first across requirement lanes, the tenant's running
/// bound, and places held for quotas.
@Suite struct JobQueueTests {
    static let start = Date(timeIntervalSince1970: 1_795_000_000)

    static func job(_ id: String, tenant: String = "t", at offset: TimeInterval, _ constraints: [String: JSONValue]? = nil) -> QueuedJob {
        QueuedJob(
            ActiveJob(
                id: id, tenantID: tenant, state: .queued, assignedMinerID: nil, requestedAt: start.addingTimeInterval(offset),
                expiresAt: start.addingTimeInterval(offset + 900), requirement: JobRequirement(constraints: constraints)))
    }

    static func miner(_ id: String, tenant: String = "t", vram: Int, concurrency: Int = 10) -> Miner {
        Miner(
            id: id, tenantID: tenant, keyID: "key_\(id)", capabilities: ["gpu": ["model": "RTX 4090", "memory_gb": .int(vram)]],
            concurrency: concurrency, region: nil, status: .online, registeredAt: start, lastSeenAt: start)
    }

    @Test func aMinerTakesTheOldestJobItCanRunWhateverLaneItIsIn() async {
        let queue = JobQueue()
        await queue.update(Self.miner("small", vram: 8))
        // Thousands of jobs it cannot run, queued first, do not hide the one it can.
        for index in 0..<5_000 { await queue.enqueue(Self.job("big-\(index)", at: Double(index), ["min_vram_gb": 80])) }
        await queue.enqueue(Self.job("fits-late", at: 6_000, ["min_vram_gb": 8]))
        await queue.enqueue(Self.job("fits-early", at: 5_500))
        let key = MinerKey(tenantID: "t", minerID: "small")
        #expect(await queue.takeMatching(for: key)?.id == "fits-early")
        #expect(await queue.takeMatching(for: key)?.id == "fits-late")
        #expect(await queue.takeMatching(for: key) == nil)
        #expect(await queue.depth(of: "t") == 5_000)
        // Equal submission times keep their arrival order; a requeued job keeps its place by time.
        await queue.enqueue(Self.job("same-1", at: 7_000))
        await queue.enqueue(Self.job("same-2", at: 7_000))
        await queue.enqueue(Self.job("requeued", at: 1))
        #expect(await queue.takeMatching(for: key)?.id == "requeued")
        #expect(await queue.takeMatching(for: key)?.id == "same-1")
        #expect(await queue.takeMatching(for: key)?.id == "same-2")
    }

    @Test func jobsArrivingOutOfOrderAreTakenInSubmissionOrder() {
        // Submissions reach a lane out of order (concurrent requests), with equal times, and some are
        // taken meanwhile; a sorted array is the model.
        var lane = TenantQueue.Lane()
        var model: [QueuedJob] = []
        var taken: [String] = []
        var expected: [String] = []
        for index in 0..<2_000 {
            var job = Self.job("j\(index)", at: Double(index / 3 - Int.random(in: 0...40)))
            job.sequence = UInt64(index)
            lane.insert(job)
            model.append(job)
            model.sort { $0.precedes($1) }
            if index % 7 == 0 {
                taken.append(lane.popFirst()?.id ?? "none")
                expected.append(model.removeFirst().id)
            }
        }
        while let job = lane.popFirst() { taken.append(job.id) }
        expected += model.map(\.id)
        #expect(taken == expected)
    }

    @Test func aTenantAtItsRunningBoundGetsNothingMoreUntilAJobEnds() async {
        let queue = JobQueue()
        await queue.setLimits(TenantJobLimits(queued: 100, running: 2, miners: 10), of: "t")
        await queue.update(Self.miner("a", vram: 24))
        await queue.update(Self.miner("b", vram: 24))
        for index in 0..<4 { await queue.enqueue(Self.job("j\(index)", at: Double(index))) }
        let a = MinerKey(tenantID: "t", minerID: "a"), b = MinerKey(tenantID: "t", minerID: "b")
        #expect(await queue.takeMatching(for: a)?.id == "j0")
        #expect(await queue.takeMatching(for: b)?.id == "j1")
        #expect(await queue.takeMatching(for: a) == nil)
        #expect(await queue.runningCount(of: "t") == 2)
        // Another tenant is not affected by this one's bound.
        await queue.update(Self.miner("c", tenant: "u", vram: 24))
        await queue.enqueue(Self.job("u0", tenant: "u", at: 0))
        #expect(await queue.takeMatching(for: MinerKey(tenantID: "u", minerID: "c"))?.id == "u0")
        await queue.finishRunning("j0")
        #expect(await queue.takeMatching(for: b)?.id == "j2")
    }

    @Test func loadingWhatTheQueueAlreadyHoldsAddsNothing() async {
        let queue = JobQueue()
        await queue.update(Self.miner("m", vram: 24))
        // A cluster event or a reconciliation got there first (they start beside the start-up load).
        await queue.enqueue(Self.job("queued", at: 0))
        await queue.enqueue(Self.job("taken", at: 1))
        let key = MinerKey(tenantID: "t", minerID: "m")
        #expect(await queue.takeMatching(for: key)?.id == "queued")
        let running = ActiveJob(
            id: "queued", tenantID: "t", state: .running, assignedMinerID: "m", requestedAt: Self.start,
            expiresAt: Self.start.addingTimeInterval(900), requirement: JobRequirement(constraints: nil))
        var stillQueued = running
        stillQueued.id = "taken"
        stillQueued.state = .queued
        stillQueued.assignedMinerID = nil
        await queue.load(jobs: [running, stillQueued], miners: [Self.miner("m", vram: 24)])
        #expect(await queue.depth(of: "t") == 1)
        #expect(await queue.runningCount(of: "t") == 1)
        #expect(await queue.runningCount(key) == 1)
    }

    @Test func placesHeldForQuotasCountUntilUsedOrGivenBack() async {
        let queue = JobQueue()
        #expect(await queue.reserveQueued(of: "t", limit: 2) == nil)
        #expect(await queue.reserveQueued(of: "t", limit: 2) == nil)
        #expect(await queue.reserveQueued(of: "t", limit: 2) == 2)
        await queue.enqueue(Self.job("j0", at: 0), reserved: true)
        await queue.cancelReservation(of: "t")
        #expect(await queue.depth(of: "t") == 1)
        #expect(await queue.reserveQueued(of: "t", limit: 2) == nil)
        #expect(await queue.reserveQueued(of: "t", limit: 2) == 2)

        let first = MinerKey(tenantID: "t", minerID: "m1"), second = MinerKey(tenantID: "t", minerID: "m2")
        #expect(await queue.reserveMiner(first, limit: 1) == nil)
        #expect(await queue.reserveMiner(second, limit: 1) == 1)
        await queue.update(Self.miner("m1", vram: 8))
        #expect(await queue.reserveMiner(first, limit: 1) == nil)  // known miners always may
        #expect(await queue.reserveMiner(second, limit: 1) == 1)
        await queue.removeMiner(first)
        #expect(await queue.reserveMiner(second, limit: 1) == nil)
    }

    /// Storage is read before the queue is corrected: what changed here in between must survive it,
    /// and so must what changed within the grace before it (its storage write may not have landed).
    @Test func aReconciliationKeepsWhatChangedWithinTheGraceBeforeItReadStorage() async {
        let clock = TestClock()
        let queue = JobQueue(reconcileGrace: .seconds(15), clock: clock)
        await queue.update(Self.miner("m", vram: 24))
        let key = MinerKey(tenantID: "t", minerID: "m")
        await queue.enqueue(Self.job("old", at: 0))
        await queue.enqueue(Self.job("taken", at: 1))
        // Storage was read here: it holds "old" and "taken", both queued.
        let read = [Self.active("old", .queued), Self.active("taken", .queued)]
        clock.advance(by: .seconds(20))
        let readSince = queue.clock.now
        // Meanwhile this instance queued a new job and handed "old" out.
        await queue.enqueue(Self.job("new", at: 2))
        #expect(await queue.takeMatching(for: key)?.id == "old")
        await queue.reconcile(jobs: read, miners: [], readSince: readSince)
        // The new job is still queued, "old" still runs on the miner and is not queued again.
        #expect(await queue.queuedJobs(of: "t").map(\.id) == ["taken", "new"])
        #expect(await queue.totals().running == 1)
        // A reconciliation that began more than a grace after the changes applies what storage says.
        clock.advance(by: .seconds(20))
        await queue.reconcile(jobs: [Self.active("taken", .queued)], miners: [], readSince: queue.clock.now)
        #expect(await queue.queuedJobs(of: "t").map(\.id) == ["taken"])
        #expect(await queue.totals().running == 0)
        // A change 10 s before the read (within the grace) outweighs storage; once the job has been
        // left alone here for longer than the grace, storage decides again.
        #expect(await queue.takeMatching(for: key)?.id == "taken")
        clock.advance(by: .seconds(10))
        await queue.reconcile(jobs: [Self.active("taken", .queued)], miners: [], readSince: queue.clock.now)
        #expect(await queue.depth(of: "t") == 0)
        #expect(await queue.runningCount(key) == 1)
        clock.advance(by: .seconds(20))
        await queue.reconcile(jobs: [Self.active("taken", .queued)], miners: [], readSince: queue.clock.now)
        #expect(await queue.queuedJobs(of: "t").map(\.id) == ["taken"])
        #expect(await queue.runningCount(key) == 0)
    }

    /// Without a grace (a store nobody else shares), nothing is remembered for a reconciliation.
    @Test func aQueueThatNothingReconcilesRemembersNoChanges() async {
        let queue = JobQueue(reconcileGrace: .zero, clock: TestClock())
        await queue.update(Self.miner("m", vram: 24))
        await queue.enqueue(Self.job("j", at: 0))
        #expect(await queue.takeMatching(for: MinerKey(tenantID: "t", minerID: "m"))?.id == "j")
        await queue.finishRunning("j")
        #expect(await queue.rememberedChanges == 0)
    }

    @Test(.timeLimit(.minutes(1)))
    func aPollWithNothingToTakeEndsAtItsDeadlineOnTheQueuesClock() async {
        let clock = TestClock()
        let queue = JobQueue(reconcileGrace: .zero, clock: clock)
        await queue.update(Self.miner("m", vram: 8))
        let key = MinerKey(tenantID: "t", minerID: "m")
        let deadline = queue.clock.now + .seconds(30)
        let poll = Task { await queue.next(for: key, until: deadline) }
        await clock.waitForSleepers(1)
        #expect(await queue.waitingPolls() == 1)
        // A job it cannot run does not end the wait; neither does time short of the deadline.
        await queue.enqueue(Self.job("too-big", at: 0, ["min_vram_gb": 80]))
        clock.advance(by: .seconds(29))
        #expect(await queue.waitingPolls() == 1)
        clock.advance(by: .seconds(1))
        #expect(await poll.value == nil)
        #expect(await queue.waitingPolls() == 0)
        #expect(await queue.depth(of: "t") == 1)
        // Past its deadline, a poll answers at once.
        #expect(await queue.next(for: key, until: deadline) == nil)
    }

    @Test(.timeLimit(.minutes(1)))
    func aJobArrivingDuringAPollGoesToItAndItsDeadlineIsDropped() async {
        let clock = TestClock()
        let queue = JobQueue(reconcileGrace: .zero, clock: clock)
        await queue.update(Self.miner("m", vram: 8))
        let key = MinerKey(tenantID: "t", minerID: "m")
        let poll = Task { await queue.next(for: key, until: queue.clock.now + .seconds(30)) }
        await clock.waitForSleepers(1)
        await queue.enqueue(Self.job("j", at: 0))
        #expect(await poll.value?.id == "j")
        #expect(await queue.runningCount(key) == 1)
        #expect(await queue.depth(of: "t") == 0)
        #expect(clock.sleeperCount == 0)
    }

    @Test(.timeLimit(.minutes(1)))
    func aDrainEndsWaitingPollsAndLaterPollsGetNothing() async {
        let clock = TestClock()
        let queue = JobQueue(reconcileGrace: .zero, clock: clock)
        await queue.update(Self.miner("m", vram: 8))
        let key = MinerKey(tenantID: "t", minerID: "m")
        let poll = Task { await queue.next(for: key, until: queue.clock.now + .seconds(30)) }
        await clock.waitForSleepers(1)
        await queue.drain()
        #expect(await poll.value == nil)
        #expect(await queue.waitingPolls() == 0)
        // The job stays queued (for the next start), and a later poll does not take it.
        await queue.enqueue(Self.job("j", at: 0))
        #expect(await queue.next(for: key, until: queue.clock.now + .seconds(30)) == nil)
        #expect(await queue.depth(of: "t") == 1)
    }

    @Test(.timeLimit(.minutes(1)))
    func aPollWhoseCallerLeavesStopsWaitingAndTakesNothing() async {
        let clock = TestClock()
        let queue = JobQueue(reconcileGrace: .zero, clock: clock)
        await queue.update(Self.miner("m", vram: 8))
        let key = MinerKey(tenantID: "t", minerID: "m")
        let caller = DepartingCaller()
        let poll = Task { await queue.next(for: key, until: queue.clock.now + .seconds(30), caller: caller) }
        await clock.waitForSleepers(1)
        #expect(caller.watched)
        caller.depart()
        #expect(await poll.value == nil)
        #expect(await queue.waitingPolls() == 0)
        await queue.enqueue(Self.job("j", at: 0))
        #expect(await queue.depth(of: "t") == 1)
    }

    static func active(_ id: String, _ state: JobState, miner: String? = nil) -> ActiveJob {
        ActiveJob(
            id: id, tenantID: "t", state: state, assignedMinerID: miner, requestedAt: start,
            expiresAt: start.addingTimeInterval(900), requirement: JobRequirement(constraints: nil))
    }
}
