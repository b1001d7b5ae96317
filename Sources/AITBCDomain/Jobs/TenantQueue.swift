import Foundation

/// The queued jobs of one tenant, in lanes of identical requirements, each oldest first.
///
/// A miner looking for work checks each lane's head once (one requirement check per distinct
/// requirement, not per job), so the cost of a match does not grow with queued jobs the miner
/// cannot run. Jobs are ordered by submission time, then by arrival in the queue.
struct TenantQueue {
    /// One requirement's jobs; `head` skips taken ones without moving the rest.
    struct Lane {
        var jobs: [QueuedJob] = []
        var head = 0

        var first: QueuedJob? { head < jobs.count ? jobs[head] : nil }
        var count: Int { jobs.count - head }

        mutating func popFirst() -> QueuedJob? {
            guard head < jobs.count else { return nil }
            let job = jobs[head]
            head += 1
            if head > 64, head * 2 > jobs.count {
                jobs.removeFirst(head)
                head = 0
            }
            return job
        }

        /// Puts `job` in its place by submission time. Concurrent submissions reach the queue a
        /// little out of order, so a job often lands just before the last few: its place is found by
        /// bisection of the sorted jobs from `head`, which does not grow with the queue as a scan would.
        mutating func insert(_ job: QueuedJob) {
            guard let last = jobs.last, head < jobs.count, job.precedes(last) else {
                jobs.append(job)
                return
            }
            // The first job from `head` that `job` precedes: `jobs[high]` is one (the last is).
            var low = head
            var high = jobs.count - 1
            while low < high {
                let middle = low + (high - low) / 2
                if job.precedes(jobs[middle]) { high = middle } else { low = middle + 1 }
            }
            jobs.insert(job, at: low)
        }

        mutating func remove(id: String) -> QueuedJob? {
            guard let index = jobs[head...].firstIndex(where: { $0.id == id }) else { return nil }
            return jobs.remove(at: index)
        }
    }

    private(set) var lanes: [JobRequirement: Lane] = [:]
    private(set) var count = 0

    mutating func insert(_ job: QueuedJob) {
        lanes[job.requirement, default: Lane()].insert(job)
        count += 1
    }

    /// Removes the job `id` of lane `requirement`, if it is there.
    mutating func remove(id: String, requirement: JobRequirement) -> QueuedJob? {
        guard let job = lanes[requirement]?.remove(id: id) else { return nil }
        count -= 1
        if lanes[requirement]?.count == 0 { lanes[requirement] = nil }
        return job
    }

    /// Takes the oldest job whose requirement `accepts` says yes to.
    mutating func takeOldest(where accepts: (JobRequirement) -> Bool) -> QueuedJob? {
        var best: (requirement: JobRequirement, job: QueuedJob)?
        for (requirement, lane) in lanes {
            guard let head = lane.first else { continue }
            if let current = best, !head.precedes(current.job) { continue }
            if accepts(requirement) { best = (requirement, head) }
        }
        guard let best else { return nil }
        _ = lanes[best.requirement]?.popFirst()
        count -= 1
        if lanes[best.requirement]?.count == 0 { lanes[best.requirement] = nil }
        return best.job
    }

    /// Removes and returns every job whose TTL has passed at `now`.
    mutating func takeExpired(at now: Date) -> [QueuedJob] {
        var expired: [QueuedJob] = []
        for (requirement, lane) in lanes {
            let live = lane.jobs[lane.head...]
            guard live.contains(where: { $0.expiresAt <= now }) else { continue }
            expired += live.filter { $0.expiresAt <= now }
            let kept = Array(live.filter { $0.expiresAt > now })
            lanes[requirement] = kept.isEmpty ? nil : Lane(jobs: kept)
        }
        count -= expired.count
        return expired
    }

    /// Every queued job, oldest first (for tests and reconciliation).
    var all: [QueuedJob] {
        lanes.values.flatMap { $0.jobs[$0.head...] }.sorted { $0.precedes($1) }
    }
}
