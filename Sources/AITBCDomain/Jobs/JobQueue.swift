import Foundation

/// Where a job is matched to a miner: the in-memory queue of each tenant, the running set of each
/// miner, and the miners long-polling for work. Private to the domain: the services change it
/// after storage has (see ``JobCommitter``) and answer the server's questions about it.
///
/// Every decision is made inside this actor without suspending, so a job goes to exactly one
/// miner. Storage is written by the callers right after (and a failed write puts the job back).
/// Oldest job first; when several miners wait, the one with the fewest running jobs first. Memory
/// per queued job is small and fixed (no payload, a parsed requirement), and a match costs one
/// requirement check per distinct requirement of the tenant, whatever the number of jobs.
public actor JobQueue {
    var queues: [String: TenantQueue] = [:]
    /// Where each queued job is: its tenant and requirement lane.
    var queuedAt: [String: (tenantID: String, requirement: JobRequirement)] = [:]
    var nextSequence: UInt64 = 0
    var runningByMiner: [MinerKey: Set<String>] = [:]
    var minerOfJob: [String: MinerKey] = [:]
    var runningByTenant: [String: Int] = [:]
    var miners: [MinerKey: MinerEntry] = [:]
    var minerIDsByTenant: [String: Set<String>] = [:]
    var reservedMiners: Set<MinerKey> = []
    var reservedSubmissions: [String: Int] = [:]
    var limits: [String: TenantJobLimits] = [:]
    /// Waiting polls per tenant, grouped by their miner's profile: a new job is checked once per
    /// distinct profile, not once per waiting miner.
    var waiters: [String: [CapabilityProfile: [Waiter]]] = [:]
    var waiterProfiles: [UInt64: CapabilityProfile] = [:]
    var pendingWaits: [UInt64: WaitState] = [:]
    var nextWaiterID: UInt64 = 0
    /// Jobs stored already assigned with their submission, until the poll they were handed to takes them.
    var handedOver: [String: Job] = [:]
    var draining = false
    /// When each job's place last changed here (on ``clock``), for as long as ``reconcileGrace``: a
    /// reconciliation does not override what this queue learnt within that time before it read
    /// storage, since the storage write following a change here may not have landed when it read.
    var recentChanges: [String: Duration] = [:]
    var nextPrune: Duration
    /// When a sighting of each miner was last written to storage (on the wall clock of its sightings).
    var writtenSightings: [MinerKey: Date] = [:]
    /// How long a change made here outweighs what storage says (longer than a storage write takes).
    let reconcileGrace: Duration
    /// What long-poll deadlines and the reconciliation bookkeeping are measured on.
    nonisolated let clock: ElapsedClock

    /// A miner and what matching reads from its capabilities, parsed once per change.
    struct MinerEntry {
        var miner: Miner
        var profile: CapabilityProfile
    }

    /// `reconcileGrace`: zero where nothing reconciles the queue (one instance on its own store).
    /// `clock`: what long-polls wait on (`ContinuousClock()` in production; tests move their own).
    public init(reconcileGrace: Duration = .seconds(15), clock: some Clock<Duration> = ContinuousClock()) {
        self.reconcileGrace = reconcileGrace
        self.clock = ElapsedClock(clock)
        self.nextPrune = self.clock.now
    }

    /// Loads the queue and the running set from storage (at start).
    func load(jobs: [ActiveJob], miners: [Miner]) {
        for miner in miners { update(miner) }
        // Events and reconciliation may have run before this load (they start with it): what the
        // queue already holds is not added twice.
        for job in jobs.sorted(by: { $0.requestedAt < $1.requestedAt }) where queuedAt[job.id] == nil && minerOfJob[job.id] == nil {
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
    func setLimits(_ limits: TenantJobLimits, of tenantID: String) {
        self.limits[tenantID] = limits
    }

    /// Holds a place for one more queued job of `tenantID` if it has fewer than `limit` queued (and
    /// held); nil when it may, else how many it has. Give it back with ``enqueue(_:reserved:)`` or
    /// ``cancelReservation(of:)``.
    func reserveQueued(of tenantID: String, limit: Int) -> Int? {
        let used = (queues[tenantID]?.count ?? 0) + reservedSubmissions[tenantID, default: 0]
        guard used < limit else { return used }
        reservedSubmissions[tenantID, default: 0] += 1
        return nil
    }

    /// Gives back a place held by ``reserveQueued(of:limit:)`` that was not used.
    func cancelReservation(of tenantID: String) {
        reservedSubmissions[tenantID, default: 1] -= 1
        if reservedSubmissions[tenantID] == 0 { reservedSubmissions[tenantID] = nil }
    }

    /// Holds a place for the miner `key` if it is known or its tenant has fewer than `limit` miners;
    /// nil when it may, else how many the tenant has. ``update(_:)`` or ``cancelMinerReservation(_:)`` ends it.
    func reserveMiner(_ key: MinerKey, limit: Int) -> Int? {
        guard miners[key] == nil, !reservedMiners.contains(key) else { return nil }
        let used = (minerIDsByTenant[key.tenantID]?.count ?? 0) + reservedMiners.filter { $0.tenantID == key.tenantID }.count
        guard used < limit else { return used }
        reservedMiners.insert(key)
        return nil
    }

    /// Gives back a place held by ``reserveMiner(_:limit:)`` that was not used.
    func cancelMinerReservation(_ key: MinerKey) { reservedMiners.remove(key) }

    // MARK: miners

    /// The miner `key`, if known.
    func miner(_ key: MinerKey) -> Miner? { miners[key]?.miner }

    /// Every known miner of `tenantID`.
    func miners(of tenantID: String) -> [Miner] {
        (minerIDsByTenant[tenantID] ?? []).compactMap { miners[MinerKey(tenantID: tenantID, minerID: $0)]?.miner }
    }

    /// Records a miner's new state (registration, heartbeat, drain, timeout).
    func update(_ miner: Miner) {
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
    func removeMiner(_ key: MinerKey) {
        guard miners.removeValue(forKey: key) != nil else { return }
        minerIDsByTenant[key.tenantID]?.remove(key.minerID)
        if minerIDsByTenant[key.tenantID]?.isEmpty == true { minerIDsByTenant[key.tenantID] = nil }
        writtenSightings[key] = nil
        for waiter in waiting(in: key.tenantID) where waiter.miner == key { resume(waiter.id, with: nil) }
    }

    /// How many jobs `key` runs now.
    func runningCount(_ key: MinerKey) -> Int { runningByMiner[key]?.count ?? 0 }

    /// How many jobs of `tenantID` run now.
    func runningCount(of tenantID: String) -> Int { runningByTenant[tenantID] ?? 0 }

    /// Miners not seen since `cutoff` that are not long-polling right now.
    func silentMiners(before cutoff: Date) -> [Miner] {
        let polling = Set(waiters.values.flatMap { $0.values.flatMap { $0.map(\.miner) } })
        return miners.values.map(\.miner).filter {
            $0.status != .offline && $0.lastSeenAt < cutoff && !polling.contains(MinerKey(tenantID: $0.tenantID, minerID: $0.id))
        }
    }

    /// OFFLINE miners not seen since `cutoff` that run nothing: candidates to forget.
    func forgottenMiners(before cutoff: Date) -> [Miner] {
        miners.values.map(\.miner).filter {
            $0.status == .offline && $0.lastSeenAt < cutoff && runningCount(MinerKey(tenantID: $0.tenantID, minerID: $0.id)) == 0
        }
    }

    /// The jobs `key` is running.
    func runningJobs(of key: MinerKey) -> Set<String> { runningByMiner[key] ?? [] }

    // MARK: jobs

    /// Adds a new (or requeued) job: straight to the least-busy waiting miner that can run it, else
    /// to the queue. `reserved`: it uses the place ``reserveQueued(of:limit:)`` held.
    func enqueue(_ job: QueuedJob, reserved: Bool = false) {
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
    func finishRunning(_ jobID: String) {
        noteChange(jobID)
        guard let key = minerOfJob.removeValue(forKey: jobID) else { return }
        runningByMiner[key]?.remove(jobID)
        if runningByMiner[key]?.isEmpty == true { runningByMiner[key] = nil }
        runningByTenant[key.tenantID, default: 1] -= 1
        if runningByTenant[key.tenantID] == 0 { runningByTenant[key.tenantID] = nil }
        handOutQueued(in: key.tenantID)
    }

    /// Removes and returns the queued jobs whose TTL has passed.
    func takeExpired(at now: Date) -> [QueuedJob] {
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

    /// Takes the oldest job `key` can run now, or nil.
    func takeMatching(for key: MinerKey) -> QueuedJob? {
        guard let entry = miners[key], hasRoom(entry, key), queues[key.tenantID] != nil else { return nil }
        let profile = entry.profile
        guard let job = queues[key.tenantID]?.takeOldest(where: { profile.satisfies($0) }) else { return nil }
        queuedAt[job.id] = nil
        if queues[key.tenantID]?.count == 0 { queues[key.tenantID] = nil }
        assign(job.id, to: key)
        return job
    }

    /// Puts back a job whose assignment could not be written.
    func unassign(_ job: QueuedJob) {
        finishRunning(job.id)
        enqueue(job)
    }

    /// Jobs queued and running, and miners online, over all tenants (for `/metrics`).
    func totals() -> (queued: Int, running: Int, minersOnline: Int) {
        (queuedAt.count, minerOfJob.count, miners.values.filter { $0.miner.status == .online }.count)
    }

    /// How many jobs wait in `tenantID`'s queue.
    func depth(of tenantID: String) -> Int { queues[tenantID]?.count ?? 0 }

    /// The queued jobs of `tenantID`, oldest first.
    func queuedJobs(of tenantID: String) -> [QueuedJob] { queues[tenantID]?.all ?? [] }

    /// Whether the miner of `entry` may take one more job: online, under its concurrency, and its
    /// tenant under the running bound of its plan.
    func hasRoom(_ entry: MinerEntry, _ key: MinerKey) -> Bool {
        entry.miner.status == .online && runningCount(key) < entry.miner.concurrency
            && runningCount(of: key.tenantID) < (limits[key.tenantID] ?? .unbounded).running
    }

    /// Counts `jobID` as running on `key` (and against its tenant's running bound).
    func assign(_ jobID: String, to key: MinerKey) {
        noteChange(jobID)
        runningByMiner[key, default: []].insert(jobID)
        minerOfJob[jobID] = key
        runningByTenant[key.tenantID, default: 0] += 1
    }

    /// Puts `job` in its tenant's queue, after the jobs that arrived before it at the same submission time.
    func insertQueued(_ job: QueuedJob) {
        noteChange(job.id)
        var job = job
        nextSequence += 1
        job.sequence = nextSequence
        queues[job.tenantID, default: TenantQueue()].insert(job)
        queuedAt[job.id] = (job.tenantID, job.requirement)
    }

    /// Takes `jobID` out of its tenant's queue, if it is there.
    func removeQueued(_ jobID: String) {
        noteChange(jobID)
        guard let place = queuedAt.removeValue(forKey: jobID) else { return }
        _ = queues[place.tenantID]?.remove(id: jobID, requirement: place.requirement)
        if queues[place.tenantID]?.count == 0 { queues[place.tenantID] = nil }
    }
}
