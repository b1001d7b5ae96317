import AITBCDomain
@testable import AITBCStorage
import AITBCWire
import Foundation
import Testing

/// Job compare-and-sets on PostgreSQL share statements: many jobs' updates in one round trip, each
/// decided on its own condition, every caller told whether its own update won.
@Suite(.enabled(if: PostgresTestDatabase.isConfigured, PostgresTestDatabase.skipReason), .freshPostgresDatabases, .timeLimit(.minutes(2)))
struct PostgresJobUpdateBatchTests {
    /// On a whole millisecond, as the stores keep instants.
    static let now = Date(unixMilliseconds: 1_795_000_000_123)

    /// `now` plus `milliseconds`, exactly.
    static func later(_ milliseconds: Int64) -> Date { Date(unixMilliseconds: 1_795_000_000_123 + milliseconds) }

    static func job(_ id: String) -> Job {
        Job(
            id: id, tenantID: "t1", clientKeyID: "key_c", payload: ["id": .string(id)], constraints: nil,
            ttlSeconds: 60, requestedAt: now, expiresAt: later(60_000))
    }

    /// `job` assigned to `miner` (attempt 1), or completed with `marker` when `marker` is given.
    static func moved(_ job: Job, to miner: String, marker: String? = nil) -> Job {
        var moved = job
        moved.state = marker == nil ? .running : .completed
        moved.assignedMinerID = miner
        moved.attempts = 1
        moved.startedAt = later(1_001)
        if let marker {
            moved.finishedAt = later(2_002)
            moved.result = ["marker": .string(marker)]
            moved.metrics = ["ms": 5]
        }
        return moved
    }

    @Test func concurrentAssignmentsOfManyJobsShareStatementsAndEachContestIsWonOnce() async throws {
        let database = try await PostgresDatabaseScope.makeDatabase()
        let store = try await database.open()
        let jobs = (0..<64).map { Self.job("job_\($0)") }
        for job in jobs { _ = try await store.insertJob(job, idempotency: nil) }
        let before = store.jobUpdateStatements

        // Two miners race for every job: each job goes to exactly one of them.
        let outcomes = try await withThrowingTaskGroup(of: (String, String, Bool).self) { group in
            for job in jobs {
                for miner in ["m1", "m2"] {
                    group.addTask {
                        (job.id, miner, try await store.updateJob(Self.moved(job, to: miner), ifStateIn: [.queued], attempt: 0))
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        for job in jobs {
            let winners = outcomes.filter { $0.0 == job.id && $0.2 }.map(\.1)
            #expect(winners.count == 1, "\(job.id) won by \(winners)")
            let stored = try await store.job(id: job.id)
            #expect(stored == winners.first.map { Self.moved(job, to: $0) })
        }
        let statements = store.jobUpdateStatements - before
        #expect(statements < 64, "128 updates took \(statements) statements")

        // Results of all jobs at once, each on its own attempt; a stale attempt loses.
        let results = try await withThrowingTaskGroup(of: (String, Bool).self) { group in
            for job in jobs {
                let winner = try #require(outcomes.first { $0.0 == job.id && $0.2 }?.1)
                group.addTask {
                    let done = Self.moved(job, to: winner, marker: "done-\(job.id)")
                    return (job.id, try await store.updateJob(done, ifStateIn: [.running], attempt: 1))
                }
                group.addTask {
                    var stale = Self.moved(job, to: winner, marker: "stale")
                    stale.attempts = 2
                    return ("stale", try await store.updateJob(stale, ifStateIn: [.running], attempt: 2))
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.filter { $0.0 == "stale" }.allSatisfy { !$0.1 })
        #expect(results.filter { $0.0 != "stale" }.allSatisfy { $0.1 })
        for job in jobs {
            let stored = try #require(try await store.job(id: job.id))
            #expect(stored.state == .completed)
            #expect(stored.result == ["marker": .string("done-\(job.id)")])
            #expect(stored.finishedAt == Self.later(2_002))
        }
        try await store.close()
    }

    @Test func anUpdateTheDatabaseRefusesFailsOnlyItsOwnCaller() async throws {
        let database = try await PostgresDatabaseScope.makeDatabase()
        let store = try await database.open()
        let jobs = (0..<16).map { Self.job("job_\($0)") }
        for job in jobs { _ = try await store.insertJob(job, idempotency: nil) }
        let outcomes = await withTaskGroup(of: (String, Result<Bool, any Error>).self) { group in
            for job in jobs {
                group.addTask {
                    var update = Self.moved(job, to: "m1")
                    // PostgreSQL text cannot hold a NUL character: this one statement is refused.
                    if job.id == "job_3" { update.failure = JobFailure(code: "X", message: "nul \u{0}") }
                    do { return (job.id, .success(try await store.updateJob(update, ifStateIn: [.queued]))) } catch {
                        return (job.id, .failure(error))
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        for (id, outcome) in outcomes {
            if id == "job_3" {
                #expect(throws: StorageError.self) { try outcome.get() }
                #expect(try await store.job(id: id)?.state == .queued)
            } else {
                #expect((try? outcome.get()) == true, "\(id)")
                #expect(try await store.job(id: id)?.state == .running)
            }
        }
        try await store.close()
    }
}
