import AITBCDomain
import AITBCWire
import Foundation
import Synchronization
import NIOCore
import SQLiteNIO

extension SQLiteStore {
    static let jobColumns = """
        id, tenant_id, client_key_id, state, payload, constraints, ttl_seconds, requested_at, expires_at, \
        assigned_miner_id, started_at, finished_at, result, receipt, error_code, error_message, metrics, attempts, created_at
        """

    public func insertJob(_ job: Job, idempotency: IdempotencyRecord?) async throws -> JobInsertOutcome {
        // Encoded before the write is queued: the writer's turn is spent on SQL alone.
        let jobBinds = Self.binds(of: job)
        return try await transaction { connection in
            if let idempotency {
                let existing = try connection.query(
                    "SELECT job_id, request_digest, created_at FROM idempotency_keys WHERE tenant_id = ? AND key = ?",
                    [.text(job.tenantID), .text(idempotency.key)]
                ).first
                if let existing, let jobID = existing.column("job_id")?.string,
                    let digest = existing.column("request_digest")?.blob,
                    let created = Self.date(existing.column("created_at")), created >= idempotency.notBefore
                {
                    return .existing(jobID: jobID, requestDigest: Array(digest.readableBytesView))
                }
                _ = try connection.query(
                    """
                    INSERT INTO idempotency_keys (tenant_id, key, request_digest, job_id, created_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(tenant_id, key) DO UPDATE SET request_digest = excluded.request_digest,
                    job_id = excluded.job_id, created_at = excluded.created_at
                    """,
                    [
                        .text(job.tenantID), .text(idempotency.key), .blob(ByteBuffer(bytes: idempotency.requestDigest)),
                        .text(job.id), .integer(Int(job.requestedAt.unixMilliseconds)),
                    ])
            }
            _ = try connection.query(
                "INSERT INTO jobs (\(Self.jobColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                jobBinds)
            return .inserted
        }
    }

    public func job(id: String) async throws -> Job? {
        try await read { connection in
            try connection.query("SELECT \(Self.jobColumns) FROM jobs WHERE id = ?", [.text(id)])
                .first.flatMap(Self.job(from:))
        }
    }

    public func jobs(
        tenantID: String, state: JobState?, after cursor: ListCursor?, offset: Int, limit: Int
    ) async throws -> [Job] {
        var conditions = ["tenant_id = ?"]
        var binds: [SQLiteData] = [.text(tenantID)]
        if let state {
            conditions.append("state = ?")
            binds.append(.text(state.rawValue))
        }
        if let cursor {
            let created = SQLiteData.integer(Int(cursor.createdAtMilliseconds))
            conditions.append("(created_at < ? OR (created_at = ? AND id < ?))")
            binds += [created, created, .text(cursor.id)]
        }
        binds += [.integer(limit), .integer(offset)]
        let sql = """
            SELECT \(Self.jobColumns) FROM jobs WHERE \(conditions.joined(separator: " AND "))
            ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?
            """
        let finalBinds = binds
        return try await read { connection in
            try connection.query(sql, finalBinds).compactMap(Self.job(from:))
        }
    }

    public func updateJob(_ job: Job, ifStateIn expected: Set<JobState>, attempt: Int?) async throws -> Bool {
        let states = expected.map { "'\($0.rawValue)'" }.joined(separator: ", ")
        // One statement: the compare-and-set is its WHERE, and the row it returns says it matched.
        var condition = "id = ? AND state IN (\(states))"
        if attempt != nil { condition += " AND attempts = ?" }
        let sql = """
            UPDATE jobs SET state = ?, assigned_miner_id = ?, started_at = ?, finished_at = ?, result = ?,
            receipt = ?, error_code = ?, error_message = ?, metrics = ?, attempts = ? WHERE \(condition) RETURNING id
            """
        var binds: [SQLiteData] = [
            .text(job.state.rawValue), job.assignedMinerID.map { .text($0) } ?? .null,
            Self.optionalDate(job.startedAt), Self.optionalDate(job.finishedAt),
            job.result.map { .text(JSONText.encodeValue($0)) } ?? .null,
            job.receipt.map { .text(JSONText.encode($0)) } ?? .null,
            job.failure.map { .text($0.code) } ?? .null, job.failure.map { .text($0.message) } ?? .null,
            job.metrics.map { .text(JSONText.encode($0)) } ?? .null, .integer(job.attempts), .text(job.id),
        ]
        if let attempt { binds.append(.integer(attempt)) }
        let finalBinds = binds
        let event = webhookOutbox.event(for: job)
        let won = try await transaction { connection in
            let changed = try connection.query(sql, finalBinds)
            guard !changed.isEmpty else { return false }
            if let event { try Self.insert(event, on: connection) }
            return true
        }
        if won, event != nil { webhookOutbox.eventWritten() }
        return won
    }

    public func jobs(inStates states: Set<JobState>) async throws -> [Job] {
        let list = states.map { "'\($0.rawValue)'" }.joined(separator: ", ")
        return try await read { connection in
            try connection.query("SELECT \(Self.jobColumns) FROM jobs WHERE state IN (\(list)) ORDER BY requested_at")
                .compactMap(Self.job(from:))
        }
    }

    public func activeJobs() async throws -> [ActiveJob] {
        try await read { connection in
            // Row by row: each row's constraints text is read into a requirement and let go at once,
            // so loading many queued jobs never holds their documents all together.
            let jobs = Mutex<[ActiveJob]>([])
            try connection.query(
                """
                SELECT id, tenant_id, state, assigned_miner_id, requested_at, expires_at, constraints FROM jobs
                WHERE state IN ('QUEUED', 'RUNNING') ORDER BY requested_at
                """, []
            ) { row in
                guard let job = Self.activeJob(from: row) else { return }
                jobs.withLock { $0.append(job) }
            }
            return jobs.withLock { $0 }
        }
    }

    static func activeJob(from row: SQLiteStoredRow) -> ActiveJob? {
        guard let id = row.column("id")?.string, let tenantID = row.column("tenant_id")?.string,
            let state = row.column("state")?.string.flatMap(JobState.init(rawValue:)),
            let requested = date(row.column("requested_at")), let expires = date(row.column("expires_at"))
        else { return nil }
        let constraints = row.column("constraints").flatMap { $0.isNull ? nil : $0.string }.map { JSONText.decodeObject($0) }
        return ActiveJob(
            id: id, tenantID: tenantID, state: state,
            assignedMinerID: row.column("assigned_miner_id").flatMap { $0.isNull ? nil : $0.string },
            requestedAt: requested, expiresAt: expires, requirement: JobRequirement(constraints: constraints))
    }

    public func statistics(tenantID: String) async throws -> JobStatistics {
        try await read { connection in
            var byState: [JobState: Int] = [:]
            for row in try connection.query(
                "SELECT state, COUNT(*) AS n FROM jobs WHERE tenant_id = ? GROUP BY state", [.text(tenantID)])
            {
                if let state = row.column("state")?.string.flatMap(JobState.init(rawValue:)) {
                    byState[state] = row.column("n")?.integer ?? 0
                }
            }
            let average = try connection.query(
                "SELECT AVG(finished_at - requested_at) AS ms FROM jobs WHERE tenant_id = ? AND state = 'COMPLETED'",
                [.text(tenantID)]
            ).first?.column("ms")?.double
            return JobStatistics(byState: byState, averageSecondsToCompletion: average.map { $0 / 1000 })
        }
    }

    public func jobCountsByState() async throws -> [JobState: Int] {
        try await read { connection in
            var counts: [JobState: Int] = [:]
            for row in try connection.query("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state") {
                if let state = row.column("state")?.string.flatMap(JobState.init(rawValue:)) {
                    counts[state] = row.column("n")?.integer ?? 0
                }
            }
            return counts
        }
    }

    static func binds(of job: Job) -> [SQLiteData] {
        [
            .text(job.id), .text(job.tenantID), .text(job.clientKeyID), .text(job.state.rawValue),
            .text(JSONText.encodeValue(job.payload)), job.constraints.map { .text(JSONText.encode($0)) } ?? .null,
            .integer(job.ttlSeconds), .integer(Int(job.requestedAt.unixMilliseconds)),
            .integer(Int(job.expiresAt.unixMilliseconds)), job.assignedMinerID.map { .text($0) } ?? .null,
            optionalDate(job.startedAt), optionalDate(job.finishedAt),
            job.result.map { .text(JSONText.encodeValue($0)) } ?? .null,
            job.receipt.map { .text(JSONText.encode($0)) } ?? .null, job.failure.map { .text($0.code) } ?? .null,
            job.failure.map { .text($0.message) } ?? .null, job.metrics.map { .text(JSONText.encode($0)) } ?? .null,
            .integer(job.attempts), .integer(Int(job.requestedAt.unixMilliseconds)),
        ]
    }

    static func job(from row: SQLiteStoredRow) -> Job? {
        guard let id = row.column("id")?.string, let tenantID = row.column("tenant_id")?.string,
            let state = row.column("state")?.string.flatMap(JobState.init(rawValue:)),
            let requested = date(row.column("requested_at")), let expires = date(row.column("expires_at"))
        else { return nil }
        func text(_ name: String) -> String? { row.column(name).flatMap { $0.isNull ? nil : $0.string } }
        let failure = text("error_code").map { JobFailure(code: $0, message: text("error_message") ?? "") }
        return Job(
            id: id, tenantID: tenantID, clientKeyID: text("client_key_id") ?? "",
            payload: JSONText.decodeValue(text("payload")) ?? .null,
            constraints: text("constraints").map { JSONText.decodeObject($0) }, state: state,
            assignedMinerID: text("assigned_miner_id"), ttlSeconds: row.column("ttl_seconds")?.integer ?? 0,
            requestedAt: requested, expiresAt: expires, startedAt: date(row.column("started_at")),
            finishedAt: date(row.column("finished_at")), result: JSONText.decodeValue(text("result")),
            receipt: text("receipt").map { JSONText.decodeObject($0) }, failure: failure,
            metrics: text("metrics").map { JSONText.decodeObject($0) }, attempts: row.column("attempts")?.integer ?? 0)
    }
}
