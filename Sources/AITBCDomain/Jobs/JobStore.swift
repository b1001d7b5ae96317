import Foundation

/// What inserting a job with an idempotency key found.
public enum JobInsertOutcome: Sendable, Equatable {
    case inserted
    /// The key was used within 24 hours: the original job and the digest of its request.
    case existing(jobID: String, requestDigest: [UInt8])
}

/// A client's `Idempotency-Key`, remembered with the digest of the request it came with.
public struct IdempotencyRecord: Sendable, Equatable {
    public var key: String
    public var requestDigest: [UInt8]
    /// Records older than this are forgotten (24 hours after use).
    public var notBefore: Date

    public init(key: String, requestDigest: [UInt8], notBefore: Date) {
        self.key = key
        self.requestDigest = requestDigest
        self.notBefore = notBefore
    }
}

/// Counts for `GET /v1/admin/stats`.
public struct JobStatistics: Sendable, Equatable {
    public var byState: [JobState: Int]
    /// Mean seconds from submission to completion of completed jobs.
    public var averageSecondsToCompletion: Double?

    public init(byState: [JobState: Int], averageSecondsToCompletion: Double?) {
        self.byState = byState
        self.averageSecondsToCompletion = averageSecondsToCompletion
    }
}

/// Storage of jobs and idempotency keys.
public protocol JobStore: Sendable {
    /// Stores a new job; with `idempotency`, only if that key was not used since `notBefore`.
    func insertJob(_ job: Job, idempotency: IdempotencyRecord?) async throws -> JobInsertOutcome
    /// The job `id`, whole, if any.
    func job(id: String) async throws -> Job?
    /// Jobs of a tenant newest first, optionally in one state, after `cursor` or from `offset`.
    func jobs(tenantID: String, state: JobState?, after cursor: ListCursor?, offset: Int, limit: Int) async throws -> [Job]
    /// Writes `job` if its stored state is one of `expected` and (when given) its stored attempt
    /// number is `attempt`; false (nothing written) otherwise.
    func updateJob(_ job: Job, ifStateIn expected: Set<JobState>, attempt: Int?) async throws -> Bool
    /// Every job in `states`, whole.
    func jobs(inStates states: Set<JobState>) async throws -> [Job]
    /// Every QUEUED and RUNNING job as the queue needs it (at start): without payload or result.
    func activeJobs() async throws -> [ActiveJob]
    /// A tenant's jobs by state and their mean time to completion.
    func statistics(tenantID: String) async throws -> JobStatistics
}

extension JobStore {
    /// Writes `job` if its stored state is one of `expected`, whatever its attempt.
    public func updateJob(_ job: Job, ifStateIn expected: Set<JobState>) async throws -> Bool {
        try await updateJob(job, ifStateIn: expected, attempt: nil)
    }
}
