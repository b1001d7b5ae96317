import AITBCDomain
import AITBCWire
import Foundation
import SQLiteNIO
import Synchronization
import Testing

@testable import AITBCStorage

/// Group commit on SQLite: writes that arrive while the connection is busy share one transaction
/// (one `fsync`), each body in its own savepoint, and every caller is answered after the COMMIT
/// holding its write — with its own failure, or the batch's.
@Suite(.timeLimit(.minutes(2))) struct SQLiteGroupCommitTests {
    static let now = Date(timeIntervalSince1970: 1_795_000_000)

    /// A flag one task sets and another reads.
    final class Flag: Sendable {
        private let value = Mutex(false)
        var isSet: Bool { value.withLock { $0 } }
        func set() { value.withLock { $0 = true } }
    }

    static func open() async throws -> SQLiteStore {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("aitbc-group-\(UUID().uuidString)/db.sqlite").path
        let store = try await SQLiteStore.open(path: path)
        _ = try await store.insertTenant(Tenant(id: "t1", name: "t1", plan: "free", createdAt: now), event: nil)
        return store
    }

    static func job(_ id: String, state: JobState = .queued, minerID: String? = nil, payload: JSONValue? = nil) -> Job {
        Job(
            id: id, tenantID: "t1", clientKeyID: "key_c", payload: payload ?? ["id": .string(id)], constraints: nil,
            state: state, assignedMinerID: minerID, ttlSeconds: 60, requestedAt: now, expiresAt: now.addingTimeInterval(60))
    }

    /// Runs `writes` while the writer's connection is held until `count` writes are queued behind
    /// it (and `ready` holds): they then go to the next commit together, as writes arriving during a
    /// commit do. Returns what `writes` returned.
    static func queuedBehindHeldWriter<R: Sendable>(
        _ count: Int, on database: AITBCStorage.SQLiteDatabase, until ready: @Sendable @escaping () -> Bool = { true },
        _ writes: @Sendable @escaping () async -> R
    ) async throws -> R {
        let (held, signal) = AsyncStream<Void>.makeStream()
        let reader = Task {
            try await database.holdingWriter {
                signal.yield()
                let deadline = ContinuousClock.now + .seconds(30)
                while database.queuedWrites < count || !ready(), ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(1))
                }
            }
        }
        for await _ in held { break }
        let writing = Task { await writes() }
        try await reader.value
        return await writing.value
    }

    /// The outcome of `body`, success or error.
    static func outcome<T: Sendable>(_ body: () async throws -> T) async -> Result<T, any Error> {
        do { return .success(try await body()) } catch { return .failure(error) }
    }

    /// Inserts `jobs` concurrently; returns each outcome (or the error) by job id.
    static func insertConcurrently(_ jobs: [Job], into store: SQLiteStore) async -> [String: Result<JobInsertOutcome, any Error>] {
        await withTaskGroup(of: (String, Result<JobInsertOutcome, any Error>).self) { group in
            for job in jobs {
                group.addTask {
                    do { return (job.id, .success(try await store.insertJob(job, idempotency: nil))) } catch { return (job.id, .failure(error)) }
                }
            }
            var outcomes: [String: Result<JobInsertOutcome, any Error>] = [:]
            for await (id, outcome) in group { outcomes[id] = outcome }
            return outcomes
        }
    }

    @Test func sixtyFourWritesQueuedDuringBusyConnectionShareOneCommit() async throws {
        let store = try await Self.open()
        let before = store.statistics
        let jobs = (0..<64).map { Self.job("job_\($0)") }
        let outcomes = try await Self.queuedBehindHeldWriter(64, on: store.database) {
            await Self.insertConcurrently(jobs, into: store)
        }
        #expect(outcomes.values.allSatisfy { (try? $0.get()) == .inserted })
        let after = store.statistics
        #expect(after.commits - before.commits == 1)
        // Each caller's write is still one operation for /metrics (and the read that held the connection one more).
        #expect(after.operations - before.operations == 65)
        for job in jobs { #expect(try await store.job(id: job.id) == job) }
        try await store.close()
    }

    @Test func concurrentWritesTakeFarFewerCommitsThanWrites() async throws {
        let store = try await Self.open()
        let before = store.statistics.commits
        let jobs = (0..<64).map { Self.job("job_free_\($0)") }
        let outcomes = await Self.insertConcurrently(jobs, into: store)
        #expect(outcomes.values.allSatisfy { (try? $0.get()) == .inserted })
        let commits = store.statistics.commits - before
        #expect(commits < 32, "64 concurrent writes took \(commits) commits")
        for job in jobs { #expect(try await store.job(id: job.id) != nil) }
        try await store.close()
    }

    @Test func aWriteThatFailsInABatchRollsBackAloneAndTheOthersCommit() async throws {
        let store = try await Self.open()
        let original = Self.job("job_dup")
        let contested = Self.job("job_cas")
        _ = try await store.insertJob(original, idempotency: nil)
        _ = try await store.insertJob(contested, idempotency: nil)
        let before = store.statistics.commits
        let fresh = (0..<10).map { Self.job("job_new_\($0)") }
        let duplicate = Self.job("job_dup", payload: ["overwritten": true])
        let key = IdempotencyRecord(key: "idem-dup", requestDigest: [1, 2, 3], notBefore: Self.now.addingTimeInterval(-60))
        let won = Self.job("job_cas", state: .running, minerID: "m1")
        let lost = Self.job("job_cas", state: .completed)
        let (inserted, duplicated, wins, loses) = try await Self.queuedBehindHeldWriter(13, on: store.database) {
            async let inserted = Self.insertConcurrently(fresh, into: store)
            // Its idempotency row is written, then the job's insert fails: both must be rolled back.
            async let duplicated = Self.outcome { try await store.insertJob(duplicate, idempotency: key) }
            async let wins = Self.outcome { try await store.updateJob(won, ifStateIn: [.queued]) }
            async let loses = Self.outcome { try await store.updateJob(lost, ifStateIn: [.running], attempt: 7) }
            return await (inserted, duplicated, wins, loses)
        }
        #expect(store.statistics.commits - before == 1)
        #expect(inserted.values.allSatisfy { (try? $0.get()) == .inserted })
        #expect(throws: StorageError.self) { try duplicated.get() }
        #expect((try? wins.get()) == true)
        #expect((try? loses.get()) == false)
        for job in fresh { #expect(try await store.job(id: job.id) == job) }
        #expect(try await store.job(id: "job_dup") == original)
        #expect(try await store.job(id: "job_cas") == won)
        // The failed write's idempotency row is gone with it: the key is free.
        #expect(try await store.insertJob(Self.job("job_after"), idempotency: key) == .inserted)
        try await store.close()
    }

    @Test func aFloodIsCommittedInBatchesOfBoundedSize() async throws {
        let store = try await Self.open()
        let before = store.statistics.commits
        let count = AITBCStorage.SQLiteDatabase.maximumBatch + 44
        let jobs = (0..<count).map { Self.job("job_flood_\($0)") }
        let outcomes = try await Self.queuedBehindHeldWriter(count, on: store.database) {
            await Self.insertConcurrently(jobs, into: store)
        }
        #expect(outcomes.values.allSatisfy { (try? $0.get()) == .inserted })
        #expect(store.statistics.commits - before == 2)
        #expect(try await store.jobCountsByState()[.queued] == count)
        try await store.close()
    }

    @Test func aCommitThatFailsFailsEveryCallerInTheBatchAndKeepsNothing() async throws {
        let store = try await Self.open()
        let database = store.database
        try await database.transaction { connection in
            _ = try connection.query("CREATE TABLE gc_parent (id INTEGER PRIMARY KEY)")
            _ = try connection.query(
                "CREATE TABLE gc_child (id INTEGER PRIMARY KEY, parent INTEGER REFERENCES gc_parent(id) DEFERRABLE INITIALLY DEFERRED)")
            _ = try connection.query("CREATE TABLE gc_plain (id INTEGER PRIMARY KEY)")
        }
        let (plain, child) = try await Self.queuedBehindHeldWriter(2, on: database) {
            async let plain = Self.outcome { try await database.transaction { _ = try $0.query("INSERT INTO gc_plain VALUES (1)") } }
            // A deferred foreign key is checked at COMMIT: each body succeeds, the COMMIT fails.
            async let child = Self.outcome { try await database.transaction { _ = try $0.query("INSERT INTO gc_child VALUES (1, 99)") } }
            return await (plain, child)
        }
        #expect(throws: StorageError.self) { try plain.get() }
        #expect(throws: StorageError.self) { try child.get() }
        #expect(try await database.read { try $0.query("SELECT id FROM gc_plain").count } == 0)
        // The connection is out of the failed transaction: the next write commits.
        try await database.transaction { _ = try $0.query("INSERT INTO gc_plain VALUES (2)") }
        #expect(try await database.read { try $0.query("SELECT id FROM gc_plain").count } == 1)
        try await store.close()
    }

    @Test func aQueuedWriteWhoseCallerIsCancelledStillCommitsAndTheCallerSeesIt() async throws {
        let store = try await Self.open()
        let job = Self.job("job_cancelled_caller")
        let cancelled = Flag()
        let caller = try await Self.queuedBehindHeldWriter(1, on: store.database, until: { cancelled.isSet }) {
            let caller = Task { try await store.insertJob(job, idempotency: nil) }
            while store.database.queuedWrites < 1 { await Task.yield() }
            caller.cancel()
            cancelled.set()
            return caller
        }
        #expect(try await caller.value == .inserted)
        #expect(try await store.job(id: job.id) == job)
        try await store.close()
    }
    @Test func aReadOfAFileAnswersWhileTheWriterIsHeld() async throws {
        let store = try await Self.open()
        let job = Self.job("job_read_while_held")
        _ = try await store.insertJob(job, idempotency: nil)
        let answered = Flag()
        let answeredWhileHeld = Flag()
        // The writer is held, as through a commit's fsync, until the read has answered (or 5 s).
        try await store.database.holdingWriter {
            let reader = Task { if try await store.job(id: job.id) == job { answered.set() } }
            let deadline = ContinuousClock.now + .seconds(5)
            while !answered.isSet, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(1)) }
            if answered.isSet { answeredWhileHeld.set() }
            _ = reader
        }
        #expect(answeredWhileHeld.isSet)
        try await store.close()
    }

    @Test func aReadDuringAWriteSeesOnlyWhatHasCommitted() async throws {
        let store = try await Self.open()
        let job = Self.job("job_uncommitted")
        let inserted = Flag()
        let looked = Flag()
        let seenBeforeCommit = Flag()
        let writing = Task {
            try await store.database.transaction { connection in
                _ = try connection.query(
                    "INSERT INTO jobs (\(SQLiteStore.jobColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    SQLiteStore.binds(of: job))
                inserted.set()
                // The transaction stays open until the read below has looked (or 5 s); the body
                // runs on the writer's own thread, so it waits by blocking it.
                let deadline = ContinuousClock.now + .seconds(5)
                while !looked.isSet, ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.001) }
            }
        }
        while !inserted.isSet { try await Task.sleep(for: .milliseconds(1)) }
        if try await store.job(id: job.id) != nil { seenBeforeCommit.set() }
        looked.set()
        try await writing.value
        #expect(!seenBeforeCommit.isSet)
        #expect(try await store.job(id: job.id) == job)
        try await store.close()
    }
}
