import AITBCWire
import Foundation

/// Where a job is in its life: `QUEUED → RUNNING → COMPLETED | FAILED | CANCELED | EXPIRED`.
public enum JobState: String, Sendable, CaseIterable, Codable {
    case queued = "QUEUED"
    case running = "RUNNING"
    case completed = "COMPLETED"
    case failed = "FAILED"
    case canceled = "CANCELED"
    case expired = "EXPIRED"

    /// Reads `queued` or `QUEUED` (AITBC clients use both).
    public init?(loose raw: String) {
        self.init(rawValue: raw.uppercased())
    }
}

/// Why a job failed, as the miner reported it.
public struct JobFailure: Sendable, Equatable {
    public var code: String
    public var message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }
}

/// A compute job submitted by a client of a tenant.
public struct Job: Sendable, Equatable {
    public var id: String
    public var tenantID: String
    /// The key that submitted it.
    public var clientKeyID: String
    public var payload: JSONValue
    public var constraints: [String: JSONValue]?
    public var state: JobState
    public var assignedMinerID: String?
    public var ttlSeconds: Int
    public var requestedAt: Date
    /// When a job still QUEUED becomes EXPIRED.
    public var expiresAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?
    public var result: JSONValue?
    public var receipt: [String: JSONValue]?
    public var failure: JobFailure?
    public var metrics: [String: JSONValue]?
    /// How many times it was handed to a miner (more than once after a miner went offline).
    public var attempts: Int

    public init(
        id: String, tenantID: String, clientKeyID: String, payload: JSONValue, constraints: [String: JSONValue]?,
        state: JobState = .queued, assignedMinerID: String? = nil, ttlSeconds: Int, requestedAt: Date,
        expiresAt: Date, startedAt: Date? = nil, finishedAt: Date? = nil, result: JSONValue? = nil,
        receipt: [String: JSONValue]? = nil, failure: JobFailure? = nil, metrics: [String: JSONValue]? = nil,
        attempts: Int = 0
    ) {
        self.id = id
        self.tenantID = tenantID
        self.clientKeyID = clientKeyID
        self.payload = payload
        self.constraints = constraints
        self.state = state
        self.assignedMinerID = assignedMinerID
        self.ttlSeconds = ttlSeconds
        self.requestedAt = requestedAt
        self.expiresAt = expiresAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.result = result
        self.receipt = receipt
        self.failure = failure
        self.metrics = metrics
        self.attempts = attempts
    }
}

/// A QUEUED or RUNNING job as the queue needs it (at start, and to reconcile with storage): no
/// payload, no result, its constraints already read into a requirement.
public struct ActiveJob: Sendable, Equatable {
    public var id: String
    public var tenantID: String
    public var state: JobState
    public var assignedMinerID: String?
    public var requestedAt: Date
    public var expiresAt: Date
    public var requirement: JobRequirement

    public init(
        id: String, tenantID: String, state: JobState, assignedMinerID: String?, requestedAt: Date, expiresAt: Date,
        requirement: JobRequirement
    ) {
        self.id = id
        self.tenantID = tenantID
        self.state = state
        self.assignedMinerID = assignedMinerID
        self.requestedAt = requestedAt
        self.expiresAt = expiresAt
        self.requirement = requirement
    }

    /// The parts of `job` the queue needs.
    public init(_ job: Job) {
        self.init(
            id: job.id, tenantID: job.tenantID, state: job.state, assignedMinerID: job.assignedMinerID,
            requestedAt: job.requestedAt, expiresAt: job.expiresAt, requirement: JobRequirement(constraints: job.constraints))
    }
}
