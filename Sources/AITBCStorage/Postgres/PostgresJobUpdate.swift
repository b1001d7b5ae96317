import AITBCDomain
import AITBCWire

/// One compare-and-set of a job waiting to share a statement with others (see
/// `PostgresStore+JobUpdates.swift`): the new row, the condition, and the caller waiting for whether it won.
struct PostgresJobUpdate: Sendable {
    let row: Row
    let caller: CheckedContinuation<Bool, any Error>

    /// The update as one element of the statement's `jsonb` array (instants in Unix milliseconds;
    /// a nil field is left out, and read as NULL).
    struct Row: Encodable, Sendable {
        var id: String
        var state: String
        var assignedMinerID: String?
        var startedAt: Int64?
        var finishedAt: Int64?
        var result: String?
        var receipt: String?
        var errorCode: String?
        var errorMessage: String?
        var metrics: String?
        var attempts: Int
        /// The states the job must be in, comma-separated.
        var expected: String
        /// The attempt the job must be at, if any.
        var attempt: Int?

        init(_ job: Job, expected: Set<JobState>, attempt: Int?) {
            id = job.id
            state = job.state.rawValue
            assignedMinerID = job.assignedMinerID
            startedAt = job.startedAt?.unixMilliseconds
            finishedAt = job.finishedAt?.unixMilliseconds
            result = job.result.map(JSONText.encodeValue)
            receipt = job.receipt.map(JSONText.encode)
            errorCode = job.failure?.code
            errorMessage = job.failure?.message
            metrics = job.metrics.map(JSONText.encode)
            attempts = job.attempts
            self.expected = expected.map(\.rawValue).sorted().joined(separator: ",")
            self.attempt = attempt
        }

        enum CodingKeys: String, CodingKey {
            case id, state, result, receipt, metrics, attempts, expected, attempt
            case assignedMinerID = "assigned_miner_id"
            case startedAt = "started_at"
            case finishedAt = "finished_at"
            case errorCode = "error_code"
            case errorMessage = "error_message"
        }
    }
}
