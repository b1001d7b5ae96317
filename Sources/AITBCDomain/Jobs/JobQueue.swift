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

/// What the queue knows of a waiting job: enough to match and order it, never its payload or its
/// constraints document (a few small fields of requirement instead).
public struct QueuedJob: Sendable, Equatable {
    public var id: String
    public var tenantID: String
    public var requestedAt: Date
    public var expiresAt: Date
    public var requirement: JobRequirement
    /// Order of arrival in the queue, breaking ties between equal submission times.
    var sequence: UInt64 = 0

    public init(_ job: Job) {
        self.init(ActiveJob(job))
    }

    public init(_ job: ActiveJob) {
        id = job.id
        tenantID = job.tenantID
        requestedAt = job.requestedAt
        expiresAt = job.expiresAt
        requirement = job.requirement
    }

    /// Whether this job comes before `other`: submitted earlier, or at the same time and queued first.
    func precedes(_ other: QueuedJob) -> Bool {
        requestedAt != other.requestedAt ? requestedAt < other.requestedAt : sequence < other.sequence
    }
}

/// How much of the queue one tenant may use (from its plan).
public struct TenantJobLimits: Sendable, Equatable {
    public var queued: Int
    public var running: Int
    public var miners: Int

    public init(queued: Int, running: Int, miners: Int) {
        self.queued = queued
        self.running = running
        self.miners = miners
    }

    /// No bound (a tenant whose plan has not been seen yet).
    public static let unbounded = TenantJobLimits(queued: .max, running: .max, miners: .max)
}

/// Where a job is matched to a miner: the in-memory queue of each tenant, the running set of each
/// miner, and the miners long-polling for work.
///
/// Every decision is made inside this actor without suspending, so a job goes to exactly one
/// miner. Storage is written by the callers right after (and a failed write puts the job back).
/// Oldest job first; when several miners wait, the one with the fewest running jobs first. Memory
/// per queued job is small and fixed (no payload, a parsed requirement), and a match costs one
/// requirement check per distinct requirement of the tenant, whatever the number of jobs.
public actor JobQueue {
    private var queues: [String: TenantQueue] = [:]
    /// Where each queued job is: its tenant and requirement lane.
    private var queuedAt: [String: (tenantID: String, requirement: JobRequirement)] = [:]
    private var nextSequence: UInt64 = 0
    private var runningByMiner: [MinerKey: Set<String>] = [:]
    private var minerOfJob: [String: MinerKey] = [:]
    private var runningByTenant: [String: Int] = [:]
    private var miners: [MinerKey: MinerEntry] = [:]
    private var minerIDsByTenant: [String: Set<String>] = [:]
    private var reservedMiners: Set<MinerKey> = []
    private var reservedSubmissions: [String: Int] = [:]
    private var limits: [String: TenantJobLimits] = [:]
    /// Waiting polls per tenant, grouped by their miner's profile: a new job is checked once per
    /// distinct profile, not once per waiting miner.
    private var waiters: [String: [CapabilityProfile: [Waiter]]] = [:]
    private var waiterProfiles: [UInt64: CapabilityProfile] = [:]
    private var pendingWaits: [UInt64: WaitState] = [:]
    private var nextWaiterID: UInt64 = 0
    private var draining = false
    /// When each job's place last changed here, for as long as ``reconcileGrace``: a reconciliation
    /// does not override what this queue learnt within that time before it read storage, since the
    /// storage write following a change here may not have landed when it read.
    private var recentChanges: [String: ContinuousClock.Instant] = [:]
    private var nextPrune = ContinuousClock.now
    /// How long a change made here outweighs what storage says (longer than a storage write takes).
    public let reconcileGrace: Duration

    /// A miner and what matching reads from its capabilities, parsed once per change.
    private struct MinerEntry {
        var miner: Miner
        var profile: CapabilityProfile
    }

    private struct Waiter {
        var id: UInt64
        var miner: MinerKey
    }

    private enum WaitState {
        case registered(MinerKey)
        case waiting(MinerKey, CheckedContinuation<QueuedJob?, Never>)
        case done(QueuedJob?)
    }

    /// `reconcileGrace`: zero where nothing reconciles the queue (one instance on its own store).
    public init(reconcileGrace: Duration = .seconds(15)) {
        self.reconcileGrace = reconcileGrace
    }

    /// Loads the queue and the running set from storage (at start).
    public func load(jobs: [ActiveJob], miners: [Miner]) {
        for miner in miners { update(miner) }
        for job in jobs.sorted(by: { $0.requestedAt < $1.requestedAt }) {
            switch job.state {
            case .queued: insertQueued(QueuedJob(job))
            case .running:
                if let minerID = job.assignedMinerID { assign(job.id, to: MinerKey(tenantID: job.tenantID, minerID: minerID)) }
            default: break
            }
        }
    }

    // MARK: limits

    /// Records the limits of `tenantID`'s plan (as of its latest call); matching honours the running bound.
    public func setLimits(_ limits: TenantJobLimits, of tenantID: String) {
        self.limits[tenantID] = limits
    }

    /// Holds a place for one more queued job of `tenantID` if it has fewer than `limit` queued (and
    /// held); nil when it may, else how many it has. Give it back with ``enqueue(_:reserved:)`` or
    /// ``cancelReservation(of:)``.
    public func reserveQueued(of tenantID: String, limit: Int) -> Int? {
        let used = (queues[tenantID]?.count ?? 0) + reservedSubmissions[tenantID, default: 0]
        guard used < limit else { return used }
        reservedSubmissions[tenantID, default: 0] += 1
        return nil
    }

    /// Gives back a place held by ``reserveQueued(of:limit:)`` that was not used.
    public func cancelReservation(of tenantID: String) {
        reservedSubmissions[tenantID, default: 1] -= 1
        if reservedSubmissions[tenantID] == 0 { reservedSubmissions[tenantID] = nil }
    }

    /// Holds a place for the miner `key` if it is known or its tenant has fewer than `limit` miners;
    /// nil when it may, else how many the tenant has. ``update(_:)`` or ``cancelMinerReservation(_:)`` ends it.
    public func reserveMiner(_ key: MinerKey, limit: Int) -> Int? {
        guard miners[key] == nil, !reservedMiners.contains(key) else { return nil }
        let used = (minerIDsByTenant[key.tenantID]?.count ?? 0) + reservedMiners.filter { $0.tenantID == key.tenantID }.count
        guard used < limit else { return used }
        reservedMiners.insert(key)
        return nil
    }

    /// Gives back a place held by ``reserveMiner(_:limit:)`` that was not used.
    public func cancelMinerReservation(_ key: MinerKey) { reservedMiners.remove(key) }

    // MARK: miners

    /// The miner `key`, if known.
    public func miner(_ key: MinerKey) -> Miner? { miners[key]?.miner }

    /// Every known miner of `tenantID`.
    public func miners(of tenantID: String) -> [Miner] {
        (minerIDsByTenant[tenantID] ?? []).compactMap { miners[MinerKey(tenantID: tenantID, minerID: $0)]?.miner }
    }

    /// Records a miner's new state (registration, heartbeat, drain, timeout).
    public func update(_ miner: Miner) {
        let key = MinerKey(tenantID: miner.tenantID, minerID: miner.id)
        reservedMiners.remove(key)
        if var entry = miners[key] {
            if entry.miner.capabilities != miner.capabilities || entry.miner.region != miner.region {
                entry.profile = miner.profile
            }
            entry.miner = miner
            miners[key] = entry
        } else {
            miners[key] = MinerEntry(miner: miner, profile: miner.profile)
            minerIDsByTenant[miner.tenantID, default: []].insert(miner.id)
        }
    }

    /// Forgets a released or long-gone miner: its waiting polls end with nothing, and it is matched no more.
    public func removeMiner(_ key: MinerKey) {
        guard miners.removeValue(forKey: key) != nil else { return }
        minerIDsByTenant[key.tenantID]?.remove(key.minerID)
        if minerIDsByTenant[key.tenantID]?.isEmpty == true { minerIDsByTenant[key.tenantID] = nil }
        writtenSightings[key] = nil
        for waiter in waiting(in: key.tenantID) where waiter.miner == key { resume(waiter.id, with: nil) }
    }

    /// How many jobs `key` runs now.
    public func runningCount(_ key: MinerKey) -> Int { runningByMiner[key]?.count ?? 0 }

    /// How many jobs of `tenantID` run now.
    public func runningCount(of tenantID: String) -> Int { runningByTenant[tenantID] ?? 0 }

    /// Miners not seen since `cutoff` that are not long-polling right now.
    public func silentMiners(before cutoff: Date) -> [Miner] {
        let polling = Set(waiters.values.flatMap { $0.values.flatMap { $0.map(\.miner) } })
        return miners.values.map(\.miner).filter {
            $0.status != .offline && $0.lastSeenAt < cutoff && !polling.contains(MinerKey(tenantID: $0.tenantID, minerID: $0.id))
        }
    }

    /// OFFLINE miners not seen since `cutoff` that run nothing: candidates to forget.
    public func forgottenMiners(before cutoff: Date) -> [Miner] {
        miners.values.map(\.miner).filter {
            $0.status == .offline && $0.lastSeenAt < cutoff && runningCount(MinerKey(tenantID: $0.tenantID, minerID: $0.id)) == 0
        }
    }

    /// The jobs `key` is running.
    public func runningJobs(of key: MinerKey) -> Set<String> { runningByMiner[key] ?? [] }

    // MARK: jobs

    /// Adds a new (or requeued) job: straight to the least-busy waiting miner that can run it, else
    /// to the queue. `reserved`: it uses the place ``reserveQueued(of:limit:)`` held.
    public func enqueue(_ job: QueuedJob, reserved: Bool = false) {
        if reserved { cancelReservation(of: job.tenantID) }
        if let waiter = bestWaiter(for: job) {
            assign(job.id, to: waiter.miner)
            resume(waiter.id, with: job)
            return
        }
        insertQueued(job)
    }

    /// Forgets a running job (completed, failed, canceled, or requeued); a miner or tenant that had
    /// reached its bound may take a queued job now.
    public func finishRunning(_ jobID: String) {
        noteChange(jobID)
        guard let key = minerOfJob.removeValue(forKey: jobID) else { return }
        runningByMiner[key]?.remove(jobID)
        if runningByMiner[key]?.isEmpty == true { runningByMiner[key] = nil }
        runningByTenant[key.tenantID, default: 1] -= 1
        if runningByTenant[key.tenantID] == 0 { runningByTenant[key.tenantID] = nil }
        handOutQueued(in: key.tenantID)
    }

    /// Removes and returns the queued jobs whose TTL has passed.
    public func takeExpired(at now: Date) -> [QueuedJob] {
        var expired: [QueuedJob] = []
        for tenant in Array(queues.keys) {
            guard let gone = queues[tenant]?.takeExpired(at: now), !gone.isEmpty else { continue }
            for job in gone {
                queuedAt[job.id] = nil
                noteChange(job.id)
            }
            if queues[tenant]?.count == 0 { queues[tenant] = nil }
            expired += gone
        }
        return expired
    }

    /// Jobs queued and running, and miners online, over all tenants (for `/metrics`).
    public func totals() -> (queued: Int, running: Int, minersOnline: Int) {
        (queuedAt.count, minerOfJob.count, miners.values.filter { $0.miner.status == .online }.count)
    }

    /// How many polls are waiting for a job now.
    public func waitingPolls() -> Int { waiterProfiles.count }

    /// How many jobs wait in `tenantID`'s queue.
    public func depth(of tenantID: String) -> Int { queues[tenantID]?.count ?? 0 }

    /// The queued jobs of `tenantID`, oldest first.
    public func queuedJobs(of tenantID: String) -> [QueuedJob] { queues[tenantID]?.all ?? [] }

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
        guard queuedAt[job.id] == nil else { return }
        enqueue(job)
    }

    /// Another instance handed `jobID` to `key`: it leaves the queue and counts against the miner here too.
    public func noteAssigned(_ jobID: String, tenantID: String, to key: MinerKey) {
        removeQueued(jobID)
        guard minerOfJob[jobID] != key else { return }
        finishRunning(jobID)
        assign(jobID, to: key)
    }

    /// `jobID` finished, was canceled or expired on another instance.
    public func forget(_ jobID: String, tenantID: String) {
        removeQueued(jobID)
        finishRunning(jobID)
    }

    /// Makes the queue and running sets what storage holds (`jobs` in QUEUED or RUNNING), and refreshes
    /// the miners, keeping the later of the two sightings of each. New queued jobs go to waiting miners.
    /// `jobs` and `stored` were read from `readSince` on; jobs whose place changed here since
    /// ``reconcileGrace`` before then keep what this queue knows of them.
    public func reconcile(jobs: [ActiveJob], miners stored: [Miner], readSince: ContinuousClock.Instant = .now) {
        let now = ContinuousClock.now
        let horizon = readSince - reconcileGrace
        forgetChanges(before: min(now - reconcileGrace, horizon))
        let changed = Set(recentChanges.compactMap { $0.value >= horizon ? $0.key : nil })
        for miner in stored {
            let key = MinerKey(tenantID: miner.tenantID, minerID: miner.id)
            var merged = miner
            if let known = miners[key]?.miner, known.lastSeenAt > miner.lastSeenAt { merged.lastSeenAt = known.lastSeenAt }
            update(merged)
        }
        let queuedNow = jobs.filter { $0.state == .queued && !changed.contains($0.id) }
        let queuedIDs = Set(queuedNow.map(\.id))
        for id in Array(queuedAt.keys) where !queuedIDs.contains(id) && !changed.contains(id) { removeQueued(id) }
        let kept = minerOfJob.filter { changed.contains($0.key) }
        minerOfJob = [:]
        runningByMiner = [:]
        runningByTenant = [:]
        for (id, key) in kept { assign(id, to: key) }
        for job in jobs where job.state == .running && !changed.contains(job.id) {
            guard let minerID = job.assignedMinerID else { continue }
            assign(job.id, to: MinerKey(tenantID: job.tenantID, minerID: minerID))
        }
        for job in queuedNow.sorted(by: { $0.requestedAt < $1.requestedAt }) where queuedAt[job.id] == nil {
            enqueue(QueuedJob(job))
        }
    }

    private func forgetChanges(before instant: ContinuousClock.Instant) {
        recentChanges = recentChanges.filter { $0.value >= instant }
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

    /// Takes the oldest job `key` can run now, or nil.
    public func takeMatching(for key: MinerKey) -> QueuedJob? {
        guard let entry = miners[key], hasRoom(entry, key), queues[key.tenantID] != nil else { return nil }
        let profile = entry.profile
        guard let job = queues[key.tenantID]?.takeOldest(where: { profile.satisfies($0) }) else { return nil }
        queuedAt[job.id] = nil
        if queues[key.tenantID]?.count == 0 { queues[key.tenantID] = nil }
        assign(job.id, to: key)
        return job
    }

    /// Puts back a job whose assignment could not be written.
    public func unassign(_ job: QueuedJob) {
        finishRunning(job.id)
        enqueue(job)
    }

    /// Whether the miner of `entry` may take one more job: online, under its concurrency, and its
    /// tenant under the running bound of its plan.
    private func hasRoom(_ entry: MinerEntry, _ key: MinerKey) -> Bool {
        entry.miner.status == .online && runningCount(key) < entry.miner.concurrency
            && runningCount(of: key.tenantID) < (limits[key.tenantID] ?? .unbounded).running
    }

    /// Remembers that `jobID` changed here now (see ``reconcileGrace``; nothing when it is zero, as on
    /// a store nobody else shares).
    private func noteChange(_ jobID: String) {
        guard reconcileGrace > .zero else { return }
        let now = ContinuousClock.now
        recentChanges[jobID] = now
        // Reconciliations prune every few seconds; between them, a burst prunes at most four times a grace.
        if recentChanges.count > 10_000, now >= nextPrune {
            forgetChanges(before: now - reconcileGrace)
            nextPrune = now + reconcileGrace / 4
        }
    }

    private func assign(_ jobID: String, to key: MinerKey) {
        noteChange(jobID)
        runningByMiner[key, default: []].insert(jobID)
        minerOfJob[jobID] = key
        runningByTenant[key.tenantID, default: 0] += 1
    }

    private func insertQueued(_ job: QueuedJob) {
        noteChange(job.id)
        var job = job
        nextSequence += 1
        job.sequence = nextSequence
        queues[job.tenantID, default: TenantQueue()].insert(job)
        queuedAt[job.id] = (job.tenantID, job.requirement)
    }

    private func removeQueued(_ jobID: String) {
        noteChange(jobID)
        guard let place = queuedAt.removeValue(forKey: jobID) else { return }
        _ = queues[place.tenantID]?.remove(id: jobID, requirement: place.requirement)
        if queues[place.tenantID]?.count == 0 { queues[place.tenantID] = nil }
    }

    /// Gives queued jobs of `tenantID` to its waiting miners that can take them now.
    private func handOutQueued(in tenantID: String) {
        guard queues[tenantID] != nil, waiters[tenantID] != nil else { return }
        for waiter in waiting(in: tenantID) {
            guard let job = takeMatching(for: waiter.miner) else { continue }
            resume(waiter.id, with: job)
        }
    }

    private func bestWaiter(for job: QueuedJob) -> Waiter? {
        guard let groups = waiters[job.tenantID] else { return nil }
        var best: (waiter: Waiter, running: Int)?
        for (profile, list) in groups where profile.satisfies(job.requirement) {
            for waiter in list {
                guard let entry = miners[waiter.miner], hasRoom(entry, waiter.miner) else { continue }
                let running = runningCount(waiter.miner)
                if let current = best, current.running < running || (current.running == running && current.waiter.id < waiter.id) {
                    continue
                }
                best = (waiter, running)
            }
        }
        return best?.waiter
    }

    /// The waiting polls of `tenantID`, first come first.
    private func waiting(in tenantID: String) -> [Waiter] {
        (waiters[tenantID] ?? [:]).values.flatMap { $0 }.sorted { $0.id < $1.id }
    }

    private func register(_ key: MinerKey) -> UInt64 {
        nextWaiterID += 1
        let id = nextWaiterID
        pendingWaits[id] = .registered(key)
        let profile = miners[key]?.profile ?? CapabilityProfile(capabilities: [:], region: nil)
        waiters[key.tenantID, default: [:]][profile, default: []].append(Waiter(id: id, miner: key))
        waiterProfiles[id] = profile
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
        guard let profile = waiterProfiles.removeValue(forKey: id) else { return }
        waiters[key.tenantID]?[profile]?.removeAll { $0.id == id }
        if waiters[key.tenantID]?[profile]?.isEmpty == true { waiters[key.tenantID]?[profile] = nil }
        if waiters[key.tenantID]?.isEmpty == true { waiters[key.tenantID] = nil }
    }
}
