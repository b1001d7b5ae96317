import Foundation

/// What the queue knows of a waiting job: enough to match and order it, never its payload or its
/// constraints document (a few small fields of requirement instead).
struct QueuedJob: Sendable, Equatable {
    var id: String
    var tenantID: String
    var requestedAt: Date
    var expiresAt: Date
    var requirement: JobRequirement
    /// Order of arrival in the queue, breaking ties between equal submission times.
    var sequence: UInt64 = 0

    init(_ job: Job) {
        self.init(ActiveJob(job))
    }

    init(_ job: ActiveJob) {
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
