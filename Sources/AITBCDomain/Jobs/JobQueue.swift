import AITBCWire
import Foundation

/// A miner's identity within the deployment: ids are chosen by miners and unique per tenant.
public struct MinerKey: Hashable, Sendable {
    public var tenantID: String
    public var minerID: String

    public init(tenantID: String, minerID: String) {
        self.tenantID = tenantID
        self.minerID = minerID
    }
}

/// What the queue knows of a waiting job: enough to match and order it, not its payload.
public struct QueuedJob: Sendable, Equatable {
    public var id: String
    public var tenantID: String
    public var requestedAt: Date
    public var expiresAt: Date
    public var constraints: [String: JSONValue]?

    public init(_ job: Job) {
        id = job.id
        tenantID = job.tenantID
        requestedAt = job.requestedAt
        expiresAt = job.expiresAt
        constraints = job.constraints
    }
}

/// Where a job is matched to a miner: the in-memory queue of each tenant, the running set of each
/// miner, and the miners long-polling for work.
///
/// Every decision is made inside this actor without suspending, so a job goes to exactly one
/// miner. Storage is written by the callers right after (and a failed write puts the job back).
/// Oldest job first; when several miners wait, the one with the fewest running jobs first.
public actor JobQueue {
    private var queued: [String: [QueuedJob]] = [:]
    private var runningByMiner: [MinerKey: Set<String>] = [:]
    private var minerOfJob: [String: MinerKey] = [:]
    private var miners: [MinerKey: Miner] = [:]
    private var waiters: [String: [Waiter]] = [:]
    private var pendingWaits: [UInt64: WaitState] = [:]
    private var nextWaiterID: UInt64 = 0
    private var draining = false

    private struct Waiter {
        var id: UInt64
        var miner: MinerKey
    }

    private enum WaitState {
        case registered(MinerKey)
        case waiting(MinerKey, CheckedContinuation<QueuedJob?, Never>)
        case done(QueuedJob?)
    }

    public init() {}

    /// Loads the queue and the running set from storage (at start).
    public func load(jobs: [Job], miners: [Miner]) {
        for miner in miners { self.miners[MinerKey(tenantID: miner.tenantID, minerID: miner.id)] = miner }
        for job in jobs.sorted(by: { $0.requestedAt < $1.requestedAt }) {
            switch job.state {
            case .queued: queued[job.tenantID, default: []].append(QueuedJob(job))
            case .running:
                if let minerID = job.assignedMinerID {
                    let key = MinerKey(tenantID: job.tenantID, minerID: minerID)
                    runningByMiner[key, default: []].insert(job.id)
                    minerOfJob[job.id] = key
                }
            default: break
            }
        }
    }

    // MARK: miners

    /// The miner `key`, if known.
    public func miner(_ key: MinerKey) -> Miner? { miners[key] }

    /// Every known miner of `tenantID`.
    public func miners(of tenantID: String) -> [Miner] {
        miners.values.filter { $0.tenantID == tenantID }
    }

    /// Records a miner's new state (registration, heartbeat, drain, timeout).
    public func update(_ miner: Miner) {
        miners[MinerKey(tenantID: miner.tenantID, minerID: miner.id)] = miner
    }

    /// How many jobs `key` runs now.
    public func runningCount(_ key: MinerKey) -> Int { runningByMiner[key]?.count ?? 0 }

    /// Miners not seen since `cutoff` that are not long-polling right now.
    public func silentMiners(before cutoff: Date) -> [Miner] {
        let polling = Set(waiters.values.flatMap { $0.map(\.miner) })
        return miners.values.filter { $0.status != .offline && $0.lastSeenAt < cutoff && !polling.contains(MinerKey(tenantID: $0.tenantID, minerID: $0.id)) }
    }

    /// The jobs `key` is running.
    public func runningJobs(of key: MinerKey) -> Set<String> { runningByMiner[key] ?? [] }

    // MARK: jobs

    /// Adds a new (or requeued) job: straight to the least-busy waiting miner that can run it, else to the queue.
    public func enqueue(_ job: QueuedJob) {
        if let waiter = bestWaiter(for: job) {
            assign(job, to: waiter.miner)
            resume(waiter.id, with: job)
            return
        }
        var list = queued[job.tenantID, default: []]
        // Requeued jobs keep their place by submission time.
        let index = list.lastIndex(where: { $0.requestedAt <= job.requestedAt }).map { $0 + 1 } ?? 0
        list.insert(job, at: index)
        queued[job.tenantID] = list
    }

    /// Forgets a running job (completed, failed, canceled, or requeued).
    public func finishRunning(_ jobID: String) {
        guard let key = minerOfJob.removeValue(forKey: jobID) else { return }
        runningByMiner[key]?.remove(jobID)
    }

    /// Removes and returns the queued jobs whose TTL has passed.
    public func takeExpired(at now: Date) -> [QueuedJob] {
        var expired: [QueuedJob] = []
        for (tenant, list) in queued {
            let (gone, kept) = list.reduce(into: ([QueuedJob](), [QueuedJob]())) { result, job in
                if job.expiresAt <= now { result.0.append(job) } else { result.1.append(job) }
            }
            if !gone.isEmpty {
                expired += gone
                queued[tenant] = kept
            }
        }
        return expired
    }

    /// Jobs queued and running, and miners online, over all tenants (for `/metrics`).
    public func totals() -> (queued: Int, running: Int, minersOnline: Int) {
        (
            queued.values.reduce(0) { $0 + $1.count }, runningByMiner.values.reduce(0) { $0 + $1.count },
            miners.values.filter { $0.status == .online }.count
        )
    }

    /// How many polls are waiting for a job now.
    public func waitingPolls() -> Int { waiters.values.reduce(0) { $0 + $1.count } }

    /// How many jobs wait in `tenantID`'s queue.
    public func depth(of tenantID: String) -> Int { queued[tenantID]?.count ?? 0 }

    /// Stops handing out work: every waiting poll answers "nothing" now, and later polls at once
    /// (the server is shutting down; jobs stay queued in storage for the next start).
    public func drain() {
        draining = true
        for id in Array(pendingWaits.keys) { resume(id, with: nil) }
    }

    // MARK: other instances (a shared store)

    private var writtenSightings: [MinerKey: Date] = [:]

    /// Whether a sighting of `key` at `now` should be written to storage (none written for `interval`).
    public func sightingIsDue(_ key: MinerKey, at now: Date, every interval: TimeInterval) -> Bool {
        if let last = writtenSightings[key], now.timeIntervalSince(last) < interval { return false }
        writtenSightings[key] = now
        return true
    }

    /// A job queued on another instance or requeued: queue it here too, unless it already is.
    public func adopt(_ job: QueuedJob) {
        if minerOfJob[job.id] != nil { finishRunning(job.id) }
        guard queued[job.tenantID]?.contains(where: { $0.id == job.id }) != true else { return }
        enqueue(job)
    }

    /// Another instance handed `jobID` to `key`: it leaves the queue and counts against the miner here too.
    public func noteAssigned(_ jobID: String, tenantID: String, to key: MinerKey) {
        queued[tenantID]?.removeAll { $0.id == jobID }
        guard minerOfJob[jobID] != key else { return }
        finishRunning(jobID)
        runningByMiner[key, default: []].insert(jobID)
        minerOfJob[jobID] = key
    }

    /// `jobID` finished, was canceled or expired on another instance.
    public func forget(_ jobID: String, tenantID: String) {
        queued[tenantID]?.removeAll { $0.id == jobID }
        finishRunning(jobID)
    }

    /// Makes the queue and running sets what storage holds (`jobs` in QUEUED or RUNNING), and refreshes
    /// the miners, keeping the later of the two sightings of each. New queued jobs go to waiting miners.
    public func reconcile(jobs: [Job], miners stored: [Miner]) {
        for miner in stored {
            let key = MinerKey(tenantID: miner.tenantID, minerID: miner.id)
            var merged = miner
            if let known = miners[key], known.lastSeenAt > miner.lastSeenAt { merged.lastSeenAt = known.lastSeenAt }
            miners[key] = merged
        }
        let queuedNow = jobs.filter { $0.state == .queued }
        let queuedIDs = Set(queuedNow.map(\.id))
        for tenant in Array(queued.keys) { queued[tenant]?.removeAll { !queuedIDs.contains($0.id) } }
        var running: [MinerKey: Set<String>] = [:]
        var minerOf: [String: MinerKey] = [:]
        for job in jobs where job.state == .running {
            guard let minerID = job.assignedMinerID else { continue }
            let key = MinerKey(tenantID: job.tenantID, minerID: minerID)
            running[key, default: []].insert(job.id)
            minerOf[job.id] = key
        }
        runningByMiner = running
        minerOfJob = minerOf
        for job in queuedNow.sorted(by: { $0.requestedAt < $1.requestedAt })
        where queued[job.tenantID]?.contains(where: { $0.id == job.id }) != true {
            enqueue(QueuedJob(job))
        }
    }

    /// Takes the oldest job `key` can run, or waits until one arrives, `deadline` passes or the
    /// `caller` goes away (then it stops waiting, so no job is handed to a poll nobody reads).
    public func next(
        for key: MinerKey, until deadline: ContinuousClock.Instant, caller: (any CallerPresence)? = nil
    ) async -> QueuedJob? {
        guard !draining else { return nil }
        if let job = takeMatching(for: key) { return job }
        guard deadline > .now else { return nil }
        if let caller {
            await caller.watch()
            // Others were served meanwhile: look again before waiting.
            guard !draining, !caller.hasDeparted else { return nil }
            if let job = takeMatching(for: key) { return job }
            guard deadline > .now else { return nil }
        }
        let id = register(key)
        return await withTaskGroup(of: QueuedJob?.self) { group in
            group.addTask { await self.wait(id) }
            group.addTask {
                try? await Task.sleep(until: deadline, clock: .continuous)
                await self.resume(id, with: nil)
                return nil
            }
            if let caller {
                group.addTask {
                    await caller.departure()
                    await self.resume(id, with: nil)
                    return nil
                }
            }
            var found: QueuedJob?
            for await result in group {
                if let result { found = result }
                group.cancelAll()
            }
            return found
        }
    }

    /// Forgets a released miner: its waiting polls end with nothing, and it is matched no more.
    public func removeMiner(_ key: MinerKey) {
        miners[key] = nil
        writtenSightings[key] = nil
        for waiter in waiters[key.tenantID] ?? [] where waiter.miner == key { resume(waiter.id, with: nil) }
    }

    /// Takes the oldest job `key` can run now, or nil.
    public func takeMatching(for key: MinerKey) -> QueuedJob? {
        guard let miner = miners[key], miner.status == .online, runningCount(key) < miner.concurrency,
            let list = queued[key.tenantID]
        else { return nil }
        let profile = miner.profile
        guard let index = list.firstIndex(where: { profile.satisfies($0.constraints) }) else { return nil }
        let job = list[index]
        queued[key.tenantID]?.remove(at: index)
        assign(job, to: key)
        return job
    }

    /// Puts back a job whose assignment could not be written.
    public func unassign(_ job: QueuedJob) {
        finishRunning(job.id)
        enqueue(job)
    }

    private func assign(_ job: QueuedJob, to key: MinerKey) {
        runningByMiner[key, default: []].insert(job.id)
        minerOfJob[job.id] = key
    }

    private func bestWaiter(for job: QueuedJob) -> Waiter? {
        guard let list = waiters[job.tenantID] else { return nil }
        let candidates = list.filter { waiter in
            guard let miner = miners[waiter.miner], miner.status == .online else { return false }
            return runningCount(waiter.miner) < miner.concurrency && miner.profile.satisfies(job.constraints)
        }
        return candidates.min { runningCount($0.miner) < runningCount($1.miner) }
    }

    private func register(_ key: MinerKey) -> UInt64 {
        nextWaiterID += 1
        let id = nextWaiterID
        pendingWaits[id] = .registered(key)
        waiters[key.tenantID, default: []].append(Waiter(id: id, miner: key))
        return id
    }

    private func wait(_ id: UInt64) async -> QueuedJob? {
        await withCheckedContinuation { continuation in
            switch pendingWaits[id] {
            case .registered(let key):
                pendingWaits[id] = .waiting(key, continuation)
            case .done(let job):
                pendingWaits[id] = nil
                continuation.resume(returning: job)
            case .waiting, nil:
                continuation.resume(returning: nil)
            }
        }
    }

    private func resume(_ id: UInt64, with job: QueuedJob?) {
        guard let state = pendingWaits[id] else { return }
        let key: MinerKey
        switch state {
        case .registered(let miner):
            key = miner
            pendingWaits[id] = .done(job)
        case .waiting(let miner, let continuation):
            key = miner
            pendingWaits[id] = nil
            continuation.resume(returning: job)
        case .done:
            return
        }
        waiters[key.tenantID]?.removeAll { $0.id == id }
    }
}
