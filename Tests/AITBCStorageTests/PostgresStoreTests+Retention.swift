import AITBCDomain
@testable import AITBCStorage
import Foundation
import PostgresNIO
import Testing

/// Retention on PostgreSQL never waits for a row another connection holds (a request, or another
/// instance's janitor): it takes the rows it can and leaves the held one for the next pass.
extension PostgresStoreTests {
    @Test func retentionBatchesSkipRowsOthersHoldInsteadOfWaitingForThem() async throws {
        let database = try await PostgresDatabaseScope.makeDatabase()
        let store = try await database.open()
        #expect(try await store.insertTenant(Tenant(id: "t1", name: "t1", plan: "free", createdAt: Self.now), event: nil))
        for id in ["job_a", "job_b", "job_held"] {
            let job = Job(
                id: id, tenantID: "t1", clientKeyID: "key_c", payload: ["n": 1], constraints: nil, state: .completed,
                ttlSeconds: 60, requestedAt: Self.now, expiresAt: Self.now, finishedAt: Self.now)
            #expect(try await store.insertJob(job, idempotency: nil) == .inserted)
        }
        let minute = Int64(Self.now.timeIntervalSince1970) / 3600 * 3600
        try await store.addUsage(UsageBatch(counts: [
            UsageBucketKey(keyID: "key_a", minute: minute): UsageCounts(admitted: 1),
            UsageBucketKey(keyID: "key_a", minute: minute + 60): UsageCounts(admitted: 2),
            UsageBucketKey(keyID: "key_a", minute: minute + 120): UsageCounts(admitted: 4),
        ]))
        let cutoff = Self.now.addingTimeInterval(1)
        let logger = PostgresTestDatabase.logger
        try await database.withConnection { connection in
            // Another connection holds one job and one minute, as a request or a flush would.
            _ = try await connection.query("BEGIN", logger: logger)
            _ = try await connection.query("SELECT 1 FROM jobs WHERE id = 'job_held' FOR UPDATE", logger: logger)
            _ = try await connection.query(
                "SELECT 1 FROM key_usage WHERE minute = \(Int(minute + 60)) FOR UPDATE", logger: logger)
            // Were the batches to wait for those rows, they would wait for this very transaction: forever.
            #expect(try await store.deleteFinishedJobs(finishedBefore: cutoff, limit: 100) == 2)
            #expect(try await store.rollUpUsageMinutes(before: minute + 3600, limit: 100) == 2)
            _ = try await connection.query("COMMIT", logger: logger)
        }
        #expect(try await store.job(id: "job_held") != nil)
        #expect(try await store.deleteFinishedJobs(finishedBefore: cutoff, limit: 100) == 1)
        #expect(try await store.rollUpUsageMinutes(before: minute + 3600, limit: 100) == 1)
        let rows = try await store.usage(keyID: "key_a", sinceMinute: 0)
        #expect(rows.map(\.minute) == [minute])
        #expect(rows.first?.counts.admitted == 7)
        try await store.close()
    }
}
