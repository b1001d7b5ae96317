/// Long-polls: a miner waits in the queue until a job it can run arrives, its deadline passes, its
/// caller goes away or the queue drains. Waiting polls are grouped by their miner's profile.
extension JobQueue {
    /// One waiting poll and the miner it is for.
    struct Waiter {
        var id: UInt64
        var miner: MinerKey
    }

    /// Where a waiting poll is: registered, suspended on its continuation, set aside for a job being
    /// stored as assigned to it (`ended`: its deadline passed, its caller left or the queue drained
    /// meanwhile; see `JobQueue+Handover.swift`), or answered before it suspended.
    enum WaitState {
        case registered(MinerKey)
        case waiting(MinerKey, CheckedContinuation<QueuedJob?, Never>)
        case claimed(MinerKey, CheckedContinuation<QueuedJob?, Never>?, ended: Bool)
        case done(QueuedJob?)
    }

    /// Takes the oldest job `key` can run, or waits until one arrives, ``clock`` reaches `deadline` or
    /// the `caller` goes away (then it stops waiting, so no job is handed to a poll nobody reads).
    func next(for key: MinerKey, until deadline: Duration, caller: (any CallerPresence)? = nil) async -> QueuedJob? {
        guard !draining else { return nil }
        if let job = takeMatching(for: key) { return job }
        guard deadline > clock.now else { return nil }
        if let caller {
            await caller.watch()
            // Others were served meanwhile: look again before waiting.
            guard !draining, !caller.hasDeparted else { return nil }
            if let job = takeMatching(for: key) { return job }
            guard deadline > clock.now else { return nil }
        }
        let id = register(key)
        let clock = self.clock
        return await withTaskGroup(of: QueuedJob?.self) { group in
            group.addTask { await self.wait(id) }
            group.addTask {
                try? await clock.sleep(until: deadline)
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

    /// Stops handing out work: every waiting poll answers "nothing" now, and later polls at once
    /// (the server is shutting down; jobs stay queued in storage for the next start).
    func drain() {
        draining = true
        for id in Array(pendingWaits.keys) { resume(id, with: nil) }
    }

    /// How many polls are waiting for a job now.
    func waitingPolls() -> Int { waiterProfiles.count }

    /// Gives queued jobs of `tenantID` to its waiting miners that can take them now.
    func handOutQueued(in tenantID: String) {
        guard queues[tenantID] != nil, waiters[tenantID] != nil else { return }
        for waiter in waiting(in: tenantID) {
            guard let job = takeMatching(for: waiter.miner) else { continue }
            resume(waiter.id, with: job)
        }
    }

    /// The waiting poll that should get `job`: of a miner that can run it and has room, the fewest
    /// running jobs first, then the longest waiting.
    func bestWaiter(for job: QueuedJob) -> Waiter? {
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
    func waiting(in tenantID: String) -> [Waiter] {
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
            case .claimed(let key, .none, let ended):
                pendingWaits[id] = .claimed(key, continuation, ended: ended)
            case .done(let job):
                pendingWaits[id] = nil
                continuation.resume(returning: job)
            case .waiting, .claimed, nil:
                continuation.resume(returning: nil)
            }
        }
    }

    /// Answers the waiting poll `id` with `job` (nil: nothing) and stops counting it as waiting.
    func resume(_ id: UInt64, with job: QueuedJob?) {
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
        case .claimed(let miner, let continuation, _):
            // The job being stored for it answers it once settled: the end is only noted meanwhile.
            pendingWaits[id] = .claimed(miner, continuation, ended: true)
            return
        case .done:
            return
        }
        leaveWaitingLists(id, of: key)
        waiterProfiles[id] = nil
    }

    /// Takes the poll `id` of the miner `key` out of the lists new jobs are matched against.
    func leaveWaitingLists(_ id: UInt64, of key: MinerKey) {
        guard let profile = waiterProfiles[id] else { return }
        waiters[key.tenantID]?[profile]?.removeAll { $0.id == id }
        if waiters[key.tenantID]?[profile]?.isEmpty == true { waiters[key.tenantID]?[profile] = nil }
        if waiters[key.tenantID]?.isEmpty == true { waiters[key.tenantID] = nil }
    }
}
