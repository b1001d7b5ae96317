import Foundation
import Synchronization

@testable import AITBCDomain

/// Jobs in memory with the compare-and-set storage makes, counting its writes; `failing` makes
/// every call throw (storage down).
final class MemoryJobStore: JobStore {
    struct Unavailable: Error {}

    private struct State {
        var jobs: [String: Job] = [:]
        var miners: [MinerKey: Miner] = [:]
        var updates = 0
        var calls = 0
        var failing = false
    }

    private let state = Mutex(State())

    init(_ jobs: [Job] = []) {
        state.withLock { state in for job in jobs { state.jobs[job.id] = job } }
    }

    /// How many `updateJob` calls were made.
    var updates: Int { state.withLock { $0.updates } }

    /// How many calls were made, reads and writes (each one a round trip to a real store).
    var calls: Int { state.withLock { $0.calls } }

    /// Makes every later call throw (true) or answer again (false).
    func setFailing(_ failing: Bool) { state.withLock { $0.failing = failing } }

    /// The stored job `id`, read without counting or failing.
    func stored(_ id: String) -> Job? { state.withLock { $0.jobs[id] } }

    private func read<T>(_ body: (inout State) -> T) throws -> T {
        try state.withLock { state in
            state.calls += 1
            guard !state.failing else { throw Unavailable() }
            return body(&state)
        }
    }

    func insertJob(_ job: Job, idempotency: IdempotencyRecord?) async throws -> JobInsertOutcome {
        try read { $0.jobs[job.id] = job }
        return .inserted
    }

    func job(id: String) async throws -> Job? { try read { $0.jobs[id] } }

    func jobs(tenantID: String, state: JobState?, after cursor: ListCursor?, offset: Int, limit: Int) async throws -> [Job] {
        try read { stored in stored.jobs.values.filter { $0.tenantID == tenantID && (state == nil || $0.state == state) } }
    }

    func updateJob(_ job: Job, ifStateIn expected: Set<JobState>, attempt: Int?) async throws -> Bool {
        try read { state in
            state.updates += 1
            guard let current = state.jobs[job.id], expected.contains(current.state),
                attempt.map({ $0 == current.attempts }) ?? true
            else { return false }
            state.jobs[job.id] = job
            return true
        }
    }

    func jobs(inStates states: Set<JobState>) async throws -> [Job] {
        try read { $0.jobs.values.filter { states.contains($0.state) } }
    }

    func activeJobs() async throws -> [ActiveJob] {
        try await jobs(inStates: [.queued, .running]).map(ActiveJob.init)
    }

    func statistics(tenantID: String) async throws -> JobStatistics {
        JobStatistics(byState: [:], averageSecondsToCompletion: nil)
    }
}

extension MemoryJobStore: MinerStore {
    func upsertMiner(_ miner: Miner) async throws -> Bool {
        try read { $0.miners[MinerKey(tenantID: miner.tenantID, minerID: miner.id)] = miner }
        return true
    }

    func deleteMiner(tenantID: String, id: String) async throws -> Bool {
        try read { $0.miners.removeValue(forKey: MinerKey(tenantID: tenantID, minerID: id)) != nil }
    }

    func miners() async throws -> [Miner] { try read { Array($0.miners.values) } }

    func miner(tenantID: String, id: String) async throws -> Miner? {
        try read { $0.miners[MinerKey(tenantID: tenantID, minerID: id)] }
    }
}

/// A bus that records what it was asked to publish.
final class RecordingBus: ClusterBus {
    private let log = Mutex<[ClusterEvent]>([])

    var isShared: Bool { true }

    /// Every event published so far, in order.
    var published: [ClusterEvent] { log.withLock { $0 } }

    func publish(_ event: ClusterEvent) async { log.withLock { $0.append(event) } }

    func events() -> AsyncStream<ClusterEvent> { AsyncStream { $0.finish() } }
}
