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
        /// The webhook event the update writes if it wins (see `PostgresStore+JobEvents.swift`).
        var tenantID: String?
        var eventID: String?
        var eventType: String?
        var eventAt: Int64?
        var eventData: String?

        init(_ job: Job, expected: Set<JobState>, attempt: Int?, event: WebhookEvent? = nil) {
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
            if let event {
                tenantID = event.tenantID
                eventID = event.id
                eventType = event.type.rawValue
                eventAt = event.createdAt.unixMilliseconds
                eventData = JSONText.encode(event.data)
            }
        }

        enum CodingKeys: String, CodingKey {
            case id, state, result, receipt, metrics, attempts, expected, attempt
            case assignedMinerID = "assigned_miner_id"
            case startedAt = "started_at"
            case finishedAt = "finished_at"
            case errorCode = "error_code"
            case errorMessage = "error_message"
            case tenantID = "tenant_id"
            case eventID = "event_id"
            case eventType = "event_type"
            case eventAt = "event_at"
            case eventData = "event_data"
        }
    }
}
