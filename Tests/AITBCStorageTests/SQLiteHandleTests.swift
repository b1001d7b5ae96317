import AITBCDomain
import AITBCWire
import Foundation
import SQLiteNIO
import Synchronization
import Testing

@testable import AITBCStorage

/// The C-level connection under the SQLite store: its bounded cache of prepared statements, the
/// reset of a statement after every use (failures included), columns read again after another
/// connection changed the schema, and callers' cancellation never leaving a transaction open.
@Suite(.timeLimit(.minutes(2))) struct SQLiteHandleTests {
    static func temporaryPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("aitbc-handle-\(UUID().uuidString).sqlite").path
    }

    @Test func theStatementCacheKeepsAtMostItsCapacityAndReusesWhatItKeeps() throws {
        let handle = try SQLiteHandle.open(path: nil, capacity: 4)
        try handle.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)")
        try handle.execute("INSERT INTO t VALUES (1, 10)")
        for n in 0..<10 {
            let rows = try handle.query("SELECT v + \(n) AS x FROM t")
            #expect(rows.first?.column("x")?.integer == 10 + n)
            #expect(handle.cachedStatements <= 4)
        }
        #expect(handle.cachedStatements == 4)
        // The most recent four are kept: running them again prepares nothing new, evicts nothing.
        for n in 6..<10 { #expect(try handle.query("SELECT v + \(n) AS x FROM t").first?.column("x")?.integer == 10 + n) }
        #expect(handle.cachedStatements == 4)
        #expect(handle.busyStatements == 0)
    }

    @Test func aStatementThatFailsIsResetAndWorksAgain() throws {
        let handle = try SQLiteHandle.open(path: nil, capacity: 8)
        try handle.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
        let insert = "INSERT INTO t (id) VALUES (?)"
        try handle.query(insert, [.integer(1)])
        #expect(throws: SQLiteFailure.self) { try handle.query(insert, [.integer(1)]) }
        #expect(handle.busyStatements == 0)
        #expect(handle.isAutocommit)
        // The same cached statement, bindings cleared, runs again.
        try handle.query(insert, [.integer(2)])
        #expect(try handle.query("SELECT COUNT(*) AS n FROM t").first?.column("n")?.integer == 2)
    }

    @Test func aStatementLeftMidRowsByABodyThatThrowsIsResetAndHoldsNoReadOpen() throws {
        struct Stop: Error {}
        let path = Self.temporaryPath()
        let handle = try SQLiteHandle.open(path: path, capacity: 8)
        try handle.execute("PRAGMA journal_mode=WAL")
        try handle.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
        try handle.execute("INSERT INTO t VALUES (1); INSERT INTO t VALUES (2)")
        #expect(throws: Stop.self) {
            try handle.query("SELECT id FROM t ORDER BY id", []) { _ in throw Stop() }
        }
        #expect(handle.busyStatements == 0)
        #expect(throws: Stop.self) {
            try handle.withStatement("SELECT id FROM t ORDER BY id") { statement in
                _ = try statement.step()
                throw Stop()
            }
        }
        #expect(handle.busyStatements == 0)
        #expect(handle.isAutocommit)
        // No read transaction is left open: a checkpoint by another connection completes in full.
        let other = try SQLiteHandle.open(path: path, capacity: 8)
        try other.execute("INSERT INTO t VALUES (3)")
        let checkpoint = try other.query("PRAGMA wal_checkpoint(TRUNCATE)").first
        #expect(checkpoint?.column("busy")?.integer == 0)
        other.close()
        handle.close()
    }

    @Test func aCachedStatementReadsItsColumnsAgainAfterAnotherConnectionChangedTheSchema() throws {
        let path = Self.temporaryPath()
        let first = try SQLiteHandle.open(path: path, capacity: 8)
        let second = try SQLiteHandle.open(path: path, capacity: 8)
        try first.execute("PRAGMA journal_mode=WAL")
        try first.execute("CREATE TABLE t (id INTEGER PRIMARY KEY); INSERT INTO t VALUES (1)")
        let before = try first.query("SELECT * FROM t")
        #expect(before.first?.columns.names == ["id"])
        try second.execute("ALTER TABLE t ADD COLUMN name TEXT DEFAULT 'added'")
        let after = try first.query("SELECT * FROM t")
        #expect(after.first?.columns.names == ["id", "name"])
        #expect(after.first?.column("name")?.string == "added")
        #expect(first.cachedStatements == 1)
        second.close()
        first.close()
    }

    @Test func aQueryRunWhileTheSameStatementIsReadingRowsGetsAStatementOfItsOwn() throws {
        let handle = try SQLiteHandle.open(path: nil, capacity: 8)
        try handle.execute("CREATE TABLE t (id INTEGER PRIMARY KEY); INSERT INTO t VALUES (1); INSERT INTO t VALUES (2)")
        var pairs: [Int] = []
        try handle.query("SELECT id FROM t ORDER BY id", []) { outer in
            let inner = try handle.query("SELECT id FROM t ORDER BY id", [])
            pairs.append((outer.column("id")?.integer ?? 0) * 10 + inner.count)
        }
        #expect(pairs == [12, 22])
        #expect(handle.busyStatements == 0)
        #expect(handle.cachedStatements == 1)
    }

    /// Callers cancelled at every point of their writes and reads: each write commits (or not) as a
    /// whole, and afterwards no connection is left in a transaction or with a statement mid-rows.
    @Test func cancelledCallersLeaveNoTransactionOpen() async throws {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("aitbc-cancel-\(UUID().uuidString)/db.sqlite").path
        let store = try await SQLiteStore.open(path: path)
        let now = Date(timeIntervalSince1970: 1_795_000_000)
        _ = try await store.insertTenant(Tenant(id: "t1", name: "t1", plan: "free", createdAt: now), event: nil)
        let jobs = (0..<200).map { n in
            Job(
                id: "job_cancel_\(n)", tenantID: "t1", clientKeyID: "key_c", payload: ["n": .int(n)],
                constraints: nil, state: .queued, assignedMinerID: nil, ttlSeconds: 60, requestedAt: now,
                expiresAt: now.addingTimeInterval(60))
        }
        var tasks: [Task<Bool, Never>] = []
        for job in jobs {
            tasks.append(Task { (try? await store.insertJob(job, idempotency: nil)) == .inserted })
            tasks.append(Task { _ = try? await store.job(id: job.id); return false })
        }
        // Cancelled at once, a little later and much later: before queueing, while queued, mid-batch.
        for (index, task) in tasks.enumerated() {
            if index % 3 == 0 { task.cancel() }
            if index % 7 == 0 { await Task.yield() }
        }
        for task in tasks.shuffled().prefix(100) { task.cancel() }
        var acknowledged: [String] = []
        for (index, task) in tasks.enumerated() where index % 2 == 0 {
            if await task.value { acknowledged.append(jobs[index / 2].id) }
        }
        let open = try await store.database.writer.run { ($0.isAutocommit, $0.busyStatements) }
        #expect(open.0)
        #expect(open.1 == 0)
        for _ in 0..<4 {
            let reader = try await store.database.read { ($0.isAutocommit, $0.busyStatements) }
            #expect(reader.0)
            #expect(reader.1 == 0)
        }
        for id in acknowledged { #expect(try await store.job(id: id) != nil) }
        // The writer still commits.
        _ = try await store.insertTenant(Tenant(id: "t2", name: "t2", plan: "free", createdAt: now), event: nil)
        #expect(try await store.tenant(id: "t2") != nil)
        try await store.close()
    }
}
