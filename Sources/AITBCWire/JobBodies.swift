import Foundation

/// `POST /v1/jobs` body.
public struct SubmitJobRequest: Codable, Sendable, Equatable {
    public var payload: JSONValue
    public var constraints: [String: JSONValue]?
    /// How long the job may wait in the queue; default 900.
    public var ttlSeconds: Int?

    public init(payload: JSONValue, constraints: [String: JSONValue]? = nil, ttlSeconds: Int? = nil) {
        self.payload = payload
        self.constraints = constraints
        self.ttlSeconds = ttlSeconds
    }

    enum CodingKeys: String, CodingKey {
        case payload, constraints
        case ttlSeconds = "ttl_seconds"
    }
}

/// A job as clients see it (AITBC's JobView, plus timing fields).
public struct JobView: Codable, Sendable, Equatable {
    public var jobID: String
    public var state: String
    public var assignedMinerID: String?
    public var requestedAt: Date
    public var expiresAt: Date
    /// The failure message of a FAILED job (AITBC clients read a string here).
    public var error: String?
    public var errorCode: String?
    public var ttlSeconds: Int
    public var startedAt: Date?
    public var finishedAt: Date?

    public init(
        jobID: String, state: String, assignedMinerID: String?, requestedAt: Date, expiresAt: Date, error: String?,
        errorCode: String?, ttlSeconds: Int, startedAt: Date?, finishedAt: Date?
    ) {
        self.jobID = jobID
        self.state = state
        self.assignedMinerID = assignedMinerID
        self.requestedAt = requestedAt
        self.expiresAt = expiresAt
        self.error = error
        self.errorCode = errorCode
        self.ttlSeconds = ttlSeconds
        self.startedAt = startedAt
        self.finishedAt = finishedAt
    }

    enum CodingKeys: String, CodingKey {
        case state, error
        case jobID = "job_id"
        case assignedMinerID = "assigned_miner_id"
        case requestedAt = "requested_at"
        case expiresAt = "expires_at"
        case errorCode = "error_code"
        case ttlSeconds = "ttl_seconds"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(jobID, forKey: .jobID)
        try container.encode(state, forKey: .state)
        try container.encode(assignedMinerID, forKey: .assignedMinerID)
        try container.encode(requestedAt, forKey: .requestedAt)
        try container.encode(expiresAt, forKey: .expiresAt)
        try container.encode(error, forKey: .error)
        try container.encode(errorCode, forKey: .errorCode)
        try container.encode(ttlSeconds, forKey: .ttlSeconds)
        try container.encode(startedAt, forKey: .startedAt)
        try container.encode(finishedAt, forKey: .finishedAt)
    }
}

/// `GET /v1/jobs/{job_id}/result`.
public struct JobResultView: Codable, Sendable, Equatable {
    public var result: JSONValue
    public var receipt: [String: JSONValue]

    public init(result: JSONValue, receipt: [String: JSONValue]) {
        self.result = result
        self.receipt = receipt
    }
}

/// `POST /v1/miners/register` body.
public struct RegisterMinerRequest: Codable, Sendable, Equatable {
    public var capabilities: [String: JSONValue]?
    public var concurrency: Int?
    public var region: String?

    public init(capabilities: [String: JSONValue]? = nil, concurrency: Int? = nil, region: String? = nil) {
        self.capabilities = capabilities
        self.concurrency = concurrency
        self.region = region
    }
}

/// `POST /v1/miners/heartbeat` body.
public struct HeartbeatRequest: Codable, Sendable, Equatable {
    public var inflight: Int?
    public var status: String?
    public var metadata: [String: JSONValue]?

    public init(inflight: Int? = nil, status: String? = nil, metadata: [String: JSONValue]? = nil) {
        self.inflight = inflight
        self.status = status
        self.metadata = metadata
    }
}

/// `POST /v1/miners/poll` body.
public struct PollRequest: Codable, Sendable, Equatable {
    public var maxWaitSeconds: Double?

    public init(maxWaitSeconds: Double? = nil) { self.maxWaitSeconds = maxWaitSeconds }

    enum CodingKeys: String, CodingKey { case maxWaitSeconds = "max_wait_seconds" }
}

/// The answer to a poll that found work.
public struct AssignedJobView: Codable, Sendable, Equatable {
    public var jobID: String
    public var payload: JSONValue
    public var constraints: [String: JSONValue]
    /// Which assignment of the job this is (1 for the first); sending it back with the result or
    /// failure makes a result of an assignment taken back meanwhile a 409.
    public var attempt: Int?

    public init(jobID: String, payload: JSONValue, constraints: [String: JSONValue], attempt: Int? = nil) {
        self.jobID = jobID
        self.payload = payload
        self.constraints = constraints
        self.attempt = attempt
    }

    enum CodingKeys: String, CodingKey {
        case payload, constraints, attempt
        case jobID = "job_id"
    }
}

/// `POST /v1/miners/{job_id}/result` body.
public struct JobResultRequest: Codable, Sendable, Equatable {
    public var result: JSONValue
    public var metrics: [String: JSONValue]?
    /// The `attempt` the poll answered with (optional: AITBC's miner script does not send it).
    public var attempt: Int?

    public init(result: JSONValue, metrics: [String: JSONValue]? = nil, attempt: Int? = nil) {
        self.result = result
        self.metrics = metrics
        self.attempt = attempt
    }
}

/// `POST /v1/miners/{job_id}/fail` body.
public struct JobFailRequest: Codable, Sendable, Equatable {
    public var errorCode: String?
    public var errorMessage: String?
    public var metrics: [String: JSONValue]?
    /// The `attempt` the poll answered with (optional).
    public var attempt: Int?

    public init(
        errorCode: String? = nil, errorMessage: String? = nil, metrics: [String: JSONValue]? = nil, attempt: Int? = nil
    ) {
        self.errorCode = errorCode
        self.errorMessage = errorMessage
        self.metrics = metrics
        self.attempt = attempt
    }

    enum CodingKeys: String, CodingKey {
        case metrics, attempt
        case errorCode = "error_code"
        case errorMessage = "error_message"
    }
}

/// A miner as the miner routes answer it.
public struct MinerView: Codable, Sendable, Equatable {
    public var minerID: String
    public var status: String
    public var concurrency: Int
    public var region: String?
    public var running: Int
    public var capabilities: [String: JSONValue]
    public var registeredAt: Date
    public var lastSeenAt: Date

    public init(
        minerID: String, status: String, concurrency: Int, region: String?, running: Int,
        capabilities: [String: JSONValue], registeredAt: Date, lastSeenAt: Date
    ) {
        self.minerID = minerID
        self.status = status
        self.concurrency = concurrency
        self.region = region
        self.running = running
        self.capabilities = capabilities
        self.registeredAt = registeredAt
        self.lastSeenAt = lastSeenAt
    }

    enum CodingKeys: String, CodingKey {
        case status, concurrency, region, running, capabilities
        case minerID = "miner_id"
        case registeredAt = "registered_at"
        case lastSeenAt = "last_seen_at"
    }
}

/// `GET /v1/admin/stats`.
public struct StatsView: Codable, Sendable, Equatable {
    public var queueDepth: Int
    public var running: Int
    public var minersOnline: Int
    public var jobsByState: [String: Int]
    /// Completed ÷ (completed + failed), or null before any finished.
    public var successRate: Double?
    public var averageSecondsToCompletion: Double?

    public init(
        queueDepth: Int, running: Int, minersOnline: Int, jobsByState: [String: Int], successRate: Double?,
        averageSecondsToCompletion: Double?
    ) {
        self.queueDepth = queueDepth
        self.running = running
        self.minersOnline = minersOnline
        self.jobsByState = jobsByState
        self.successRate = successRate
        self.averageSecondsToCompletion = averageSecondsToCompletion
    }

    enum CodingKeys: String, CodingKey {
        case running
        case queueDepth = "queue_depth"
        case minersOnline = "miners_online"
        case jobsByState = "jobs_by_state"
        case successRate = "success_rate"
        case averageSecondsToCompletion = "average_seconds_to_completion"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(queueDepth, forKey: .queueDepth)
        try container.encode(running, forKey: .running)
        try container.encode(minersOnline, forKey: .minersOnline)
        try container.encode(jobsByState, forKey: .jobsByState)
        try container.encode(successRate, forKey: .successRate)
        try container.encode(averageSecondsToCompletion, forKey: .averageSecondsToCompletion)
    }
}

/// The answer to `DELETE /v1/miners/{miner_id}`: the id is free for another key to register.
public struct MinerReleasedView: Codable, Sendable, Equatable {
    public var minerID: String
    public var released: Bool
    /// Running jobs of the miner that went back to the queue.
    public var requeuedJobs: Int

    public init(minerID: String, released: Bool = true, requeuedJobs: Int) {
        self.minerID = minerID
        self.released = released
        self.requeuedJobs = requeuedJobs
    }

    enum CodingKeys: String, CodingKey {
        case released
        case minerID = "miner_id"
        case requeuedJobs = "requeued_jobs"
    }
}
