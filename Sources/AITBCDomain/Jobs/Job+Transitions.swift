import AITBCWire
import Foundation

/// One change of a job's state, naming the states it may start from.
///
/// A transition is applied to the job as last read from storage; ``JobCommitter`` writes the result
/// only if storage still holds that state (and, for a transition over one assignment, that attempt).
public enum JobTransition: Sendable, Equatable {
    /// QUEUED → RUNNING on `miner`, as the job's `attempt`th assignment (one more than it had).
    case assigned(to: MinerKey, attempt: Int, at: Date)
    /// RUNNING → COMPLETED with its result and the receipt issued for it.
    case completed(result: JSONValue, receipt: [String: JSONValue], metrics: [String: JSONValue]?, at: Date)
    /// RUNNING → FAILED, as its miner reported, with the receipt issued for it.
    case failed(JobFailure, metrics: [String: JSONValue]?, receipt: [String: JSONValue]? = nil, at: Date)
    /// QUEUED or RUNNING → CANCELED by its client.
    case canceled(at: Date)
    /// QUEUED → EXPIRED: its TTL passed before a miner took it.
    case expired(at: Date)
    /// RUNNING → QUEUED: its miner went away, and the assignment is taken back.
    case requeued

    /// The states it may start from.
    public var startStates: Set<JobState> {
        switch self {
        case .assigned, .expired: [.queued]
        case .completed, .failed, .requeued: [.running]
        case .canceled: [.queued, .running]
        }
    }

    /// The state it ends in.
    public var endState: JobState {
        switch self {
        case .assigned: .running
        case .completed: .completed
        case .failed: .failed
        case .canceled: .canceled
        case .expired: .expired
        case .requeued: .queued
        }
    }

    /// The attempt storage must still hold for it to apply to `job`: a transition that ends one
    /// assignment holds to the assignment that was checked, so one taken back (and perhaps handed out
    /// again) meanwhile is not overwritten. Nil for the others: an assignment is taken once per
    /// queueing (whichever instance writes first), and a cancellation or an expiry ends the job whatever ran.
    public func requiredAttempt(of job: Job) -> Int? {
        switch self {
        case .completed, .failed, .requeued: job.attempts
        case .assigned, .canceled, .expired: nil
        }
    }

    /// `job` after this transition; nil when it may not start from `job`'s state (or, for an
    /// assignment, `attempt` is not the job's next).
    public func applied(to job: Job) -> Job? {
        guard startStates.contains(job.state) else { return nil }
        var changed = job
        changed.state = endState
        switch self {
        case .assigned(let miner, let attempt, let now):
            guard attempt == job.attempts + 1, miner.tenantID == job.tenantID else { return nil }
            changed.assignedMinerID = miner.minerID
            changed.startedAt = now
            changed.attempts = attempt
        case .completed(let result, let receipt, let metrics, let now):
            changed.result = result
            changed.receipt = receipt
            changed.metrics = metrics
            changed.finishedAt = now
        case .failed(let failure, let metrics, let receipt, let now):
            changed.failure = failure
            changed.metrics = metrics
            changed.receipt = receipt
            changed.finishedAt = now
        case .canceled(let now), .expired(let now):
            changed.finishedAt = now
        case .requeued:
            changed.assignedMinerID = nil
            changed.startedAt = nil
        }
        return changed
    }
}
