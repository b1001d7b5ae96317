import AITBCDomain
import AITBCWire
import Foundation
import PostgresNIO

extension PostgresStore {
    static let jobColumns = """
        id, tenant_id, client_key_id, state, payload, constraints, ttl_seconds, requested_at, expires_at, \
        assigned_miner_id, started_at, finished_at, result, receipt, error_code, error_message, metrics, attempts, created_at
        """

    public func insertJob(_ job: Job, idempotency: IdempotencyRecord?) async throws -> JobInsertOutcome {
        guard let idempotency else {
            // One statement is its own transaction: one round trip where BEGIN, INSERT and COMMIT took
            // three (a submission, and the hand-off to a waiting miner, wait for it).
            try await read { session in try await session.rows(Self.insertQuery(of: job)) }
            return .inserted
        }
        return try await transaction { session in
            // Claims the key in one statement: a fresh insert, or taking over a record older than
            // `notBefore`. A concurrent claim of the same key waits for this one and then finds
            // the record recent, so exactly one job is created per key and window.
            let claimed = try await session.rows(
                """
                INSERT INTO idempotency_keys (tenant_id, key, request_digest, job_id, created_at)
                VALUES (\(job.tenantID), \(idempotency.key), \(ByteBuffer(bytes: idempotency.requestDigest)), \(job.id),
                \(PostgresInstant(job.requestedAt)))
                ON CONFLICT (tenant_id, key) DO UPDATE SET request_digest = excluded.request_digest,
                job_id = excluded.job_id, created_at = excluded.created_at
                WHERE idempotency_keys.created_at < \(PostgresInstant(idempotency.notBefore))
                RETURNING job_id
                """)
            if claimed.isEmpty {
                let existing = try await session.rows(
                    """
                    SELECT job_id, request_digest FROM idempotency_keys
                    WHERE tenant_id = \(job.tenantID) AND key = \(idempotency.key)
                    """
                ).first.map(PostgresRecord.init)
                if let existing {
                    return .existing(
                        jobID: try existing("job_id"),
                        requestDigest: Array(try existing("request_digest", as: ByteBuffer.self).readableBytesView))
                }
            }
            try await session.rows(Self.insertQuery(of: job))
            return .inserted
        }
    }

    public func job(id: String) async throws -> Job? {
        guard Self.isStorable(id) else { return nil }
        return try await read { session in
            try await session.rows("SELECT \(unescaped: Self.jobColumns) FROM jobs WHERE id = \(id)").first.flatMap(Self.job(from:))
        }
    }

    public func jobs(
        tenantID: String, state: JobState?, after cursor: ListCursor?, offset: Int, limit: Int
    ) async throws -> [Job] {
        var binds = PostgresBindings()
        binds.append(tenantID)
        var conditions = ["tenant_id = $1"]
        if let state {
            binds.append(state.rawValue)
            conditions.append("state = $\(binds.count)")
        }
        if let cursor {
            binds.append(PostgresInstant(unixMilliseconds: cursor.createdAtMilliseconds))
            binds.append(cursor.id)
            conditions.append("(created_at, id) < ($\(binds.count - 1), $\(binds.count))")
        }
        binds.append(limit)
        binds.append(offset)
        let query = PostgresQuery(
            unsafeSQL: """
                SELECT \(Self.jobColumns) FROM jobs WHERE \(conditions.joined(separator: " AND "))
                ORDER BY created_at DESC, id DESC LIMIT $\(binds.count - 1) OFFSET $\(binds.count)
                """,
            binds: binds)
        return try await read { session in
            try await session.rows(query).compactMap(Self.job(from:))
        }
    }

    public func jobs(inStates states: Set<JobState>) async throws -> [Job] {
        let names = states.map(\.rawValue)
        return try await read { session in
            try await session.rows(
                "SELECT \(unescaped: Self.jobColumns) FROM jobs WHERE state = ANY(\(names)) ORDER BY requested_at"
            ).compactMap(Self.job(from:))
        }
    }

    public func activeJobs() async throws -> [ActiveJob] {
        try await read { session in
            try await session.rows(
                """
                SELECT id, tenant_id, state, assigned_miner_id, requested_at, expires_at, constraints FROM jobs
                WHERE state IN ('QUEUED', 'RUNNING') ORDER BY requested_at
                """
            ).compactMap { row in
                let record = PostgresRecord(row)
                guard let state = JobState(rawValue: try record("state")) else { return nil }
                let constraints = try record("constraints", as: String?.self).map { JSONText.decodeObject($0) }
                return ActiveJob(
                    id: try record("id"), tenantID: try record("tenant_id"), state: state,
                    assignedMinerID: try record("assigned_miner_id"),
                    requestedAt: try record("requested_at", as: PostgresInstant.self).date,
                    expiresAt: try record("expires_at", as: PostgresInstant.self).date,
                    requirement: JobRequirement(constraints: constraints))
            }
        }
    }

    public func statistics(tenantID: String) async throws -> JobStatistics {
        try await read { session in
            var byState: [JobState: Int] = [:]
            for row in try await session.rows(
                "SELECT state, COUNT(*) AS n FROM jobs WHERE tenant_id = \(tenantID) GROUP BY state")
            {
                let record = PostgresRecord(row)
                if let state = JobState(rawValue: try record("state")) { byState[state] = try record("n", as: Int.self) }
            }
            let average = try await session.rows(
                """
                SELECT AVG(EXTRACT(EPOCH FROM finished_at - requested_at))::float8 AS seconds FROM jobs
                WHERE tenant_id = \(tenantID) AND state = 'COMPLETED'
                """
            ).first.flatMap { try PostgresRecord($0)("seconds", as: Double?.self) }
            return JobStatistics(byState: byState, averageSecondsToCompletion: average)
        }
    }

    public func jobCountsByState() async throws -> [JobState: Int] {
        try await read { session in
            var counts: [JobState: Int] = [:]
            for row in try await session.rows("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state") {
                let record = PostgresRecord(row)
                if let state = JobState(rawValue: try record("state")) { counts[state] = try record("n", as: Int.self) }
            }
            return counts
        }
    }

    static func insertQuery(of job: Job) -> PostgresQuery {
        """
        INSERT INTO jobs (\(unescaped: jobColumns)) VALUES (\(job.id), \(job.tenantID), \(job.clientKeyID),
        \(job.state.rawValue), \(JSONText.encodeValue(job.payload)), \(job.constraints.map(JSONText.encode)),
        \(job.ttlSeconds), \(PostgresInstant(job.requestedAt)), \(PostgresInstant(job.expiresAt)), \(job.assignedMinerID),
        \(job.startedAt.map { PostgresInstant($0) }), \(job.finishedAt.map { PostgresInstant($0) }),
        \(job.result.map(JSONText.encodeValue)), \(job.receipt.map(JSONText.encode)), \(job.failure?.code),
        \(job.failure?.message), \(job.metrics.map(JSONText.encode)), \(job.attempts), \(PostgresInstant(job.requestedAt)))
        """
    }

    static func job(from row: PostgresRow) throws -> Job? {
        let record = PostgresRecord(row)
        guard let state = JobState(rawValue: try record("state")) else { return nil }
        let failure = try record("error_code", as: String?.self).map {
            JobFailure(code: $0, message: try record("error_message", as: String?.self) ?? "")
        }
        return Job(
            id: try record("id"), tenantID: try record("tenant_id"), clientKeyID: try record("client_key_id"),
            payload: JSONText.decodeValue(try record("payload")) ?? .null,
            constraints: try record("constraints", as: String?.self).map { JSONText.decodeObject($0) }, state: state,
            assignedMinerID: try record("assigned_miner_id"), ttlSeconds: try record("ttl_seconds"),
            requestedAt: try record("requested_at", as: PostgresInstant.self).date,
            expiresAt: try record("expires_at", as: PostgresInstant.self).date,
            startedAt: try record("started_at", as: PostgresInstant?.self)?.date,
            finishedAt: try record("finished_at", as: PostgresInstant?.self)?.date,
            result: JSONText.decodeValue(try record("result")),
            receipt: try record("receipt", as: String?.self).map { JSONText.decodeObject($0) }, failure: failure,
            metrics: try record("metrics", as: String?.self).map { JSONText.decodeObject($0) },
            attempts: try record("attempts"))
    }
}
