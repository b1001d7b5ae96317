import AITBCDomain
import AITBCStorage
import Foundation
import Logging
import ServiceLifecycle
import Testing

/// The retention janitor on a real store with a hand-moved clock: each kind goes when (and only
/// when) the clock passes its age, in batches, and the service runs passes until shutdown.
@Suite struct RetentionJanitorTests {
    static let start = Date(timeIntervalSince1970: 1_795_000_000)
    static let hour: TimeInterval = 3600
    static let day: TimeInterval = 86400

    /// A store holding one of each kind, all made at `start` (usage: 90 minutes from `start` on).
    static func seededStore() async throws -> SQLiteStore {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("aitbc-janitor-\(UUID().uuidString)/db.sqlite").path
        let store = try await SQLiteStore.open(path: path)
        let tenant = Tenant(id: "t1", name: "t1", plan: "free", createdAt: start)
        let master = APIKeyRecord(
            id: "key_m", tenantID: "t1", name: "m", role: .master, scopes: nil, digest: APIKeyDigest(of: "m"), hint: "h",
            createdAt: start)
        let account = Account(id: "acct_1", email: "a@example.com", passwordHash: "x", tenantID: "t1", createdAt: start)
        let created = AuditEvent(id: "evt_1", kind: .accountCreated, tenantID: "t1", actorKeyID: nil, targetID: "acct_1", createdAt: start)
        _ = try await store.insertAccount(account, tenant: tenant, masterKey: master, events: [created])
        try await store.insertSession(
            DashboardSession(
                digest: DashboardSession.digest(of: "token"), accountID: "acct_1", csrfToken: "c", createdAt: start,
                expiresAt: start.addingTimeInterval(12 * hour)))
        for (id, state) in [("job_done", JobState.completed), ("job_waiting", .queued)] {
            let job = Job(
                id: id, tenantID: "t1", clientKeyID: "key_m", payload: ["n": 1], constraints: nil, state: state, ttlSeconds: 60,
                requestedAt: start, expiresAt: start.addingTimeInterval(60), finishedAt: state == .completed ? start : nil)
            _ = try await store.insertJob(job, idempotency: IdempotencyRecord(key: id, requestDigest: [1], notBefore: .distantPast))
        }
        var counts: [UsageBucketKey: UsageCounts] = [:]
        let first = Int64(start.timeIntervalSince1970) / 60 * 60
        for index in 0..<90 { counts[UsageBucketKey(keyID: "key_m", minute: first + Int64(index) * 60)] = UsageCounts(admitted: index + 1) }
        try await store.addUsage(UsageBatch(counts: counts))
        return store
    }

    static func janitor(_ store: SQLiteStore, clock: ManualTimeSource, interval: Duration = .seconds(3600)) -> RetentionJanitor {
        // Batches of three: every kind with more rows than that takes several.
        RetentionJanitor(
            store: store, policy: RetentionPolicy(), time: clock, interval: interval, batchSize: 3, pause: .zero,
            logger: Logger(label: "test"))
    }

    @Test func eachKindGoesOnlyOnceTheClockPassesItsAge() async throws {
        let store = try await Self.seededStore()
        let clock = ManualTimeSource(Self.start)
        let janitor = Self.janitor(store, clock: clock)
        let usageTotal = 90 * 91 / 2

        #expect(try await janitor.sweep().isEmpty)

        // A day and an hour later: the idempotency keys and the expired session go, nothing else.
        clock.advance(by: 25 * Self.hour)
        var swept = try await janitor.sweep()
        #expect(swept.idempotencyKeys == 2)
        #expect(swept.sessions == 1)
        #expect(swept.finishedJobs == 0 && swept.usageMinutesRolledUp == 0 && swept.auditEvents == 0)
        #expect(try await store.session(digest: DashboardSession.digest(of: "token")) == nil)

        // Once both hours they fall in are 48 hours old, the minutes are rolled into those hours, in
        // batches of three, with the same total.
        clock.advance(by: 26 * Self.hour)
        swept = try await janitor.sweep()
        #expect(swept.usageMinutesRolledUp == 90)
        let hours = try await store.usage(keyID: "key_m", sinceMinute: 0)
        #expect(hours.count == 2)
        #expect(hours.map(\.counts.admitted).reduce(0, +) == usageTotal)
        #expect(try await store.job(id: "job_done") != nil)

        // Past 30 days the finished job goes; the queued one, as old, stays.
        clock.advance(by: 29 * Self.day)
        swept = try await janitor.sweep()
        #expect(swept.finishedJobs == 1)
        #expect(try await store.job(id: "job_done") == nil)
        #expect(try await store.job(id: "job_waiting")?.state == .queued)
        #expect(try await store.auditEvents(tenantID: "t1", after: nil, limit: 10).count == 1)

        // Past 400 days the audit events and the usage hours go too.
        clock.advance(by: 370 * Self.day)
        swept = try await janitor.sweep()
        #expect(swept.auditEvents == 1)
        #expect(swept.usageHours == hours.count)
        #expect(try await store.auditEvents(tenantID: "t1", after: nil, limit: 10).isEmpty)
        #expect(try await store.usage(keyID: "key_m", sinceMinute: 0).isEmpty)
        #expect(try await store.job(id: "job_waiting") != nil)
        #expect(try await janitor.sweep().isEmpty)
        try await store.close()
    }

    @Test func theServiceSweepsEveryIntervalUntilShutdown() async throws {
        let store = try await Self.seededStore()
        let clock = ManualTimeSource(Self.start.addingTimeInterval(500 * Self.day))
        let janitor = Self.janitor(store, clock: clock, interval: .milliseconds(20))
        let group = ServiceGroup(
            configuration: .init(services: [.init(service: janitor)], gracefulShutdownSignals: [], logger: Logger(label: "test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            // Wait for the state a pass leaves behind (generously: this machine may be busy), then stop.
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline {
                let jobGone = try await store.job(id: "job_done") == nil
                let usageGone = try await store.usage(keyID: "key_m", sinceMinute: 0).isEmpty
                let auditGone = try await store.auditEvents(tenantID: "t1", after: nil, limit: 10).isEmpty
                if jobGone && usageGone && auditGone { break }
                try await Task.sleep(for: .milliseconds(10))
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(try await store.job(id: "job_done") == nil)
        #expect(try await store.usage(keyID: "key_m", sinceMinute: 0).isEmpty)
        #expect(try await store.auditEvents(tenantID: "t1", after: nil, limit: 10).isEmpty)
        #expect(try await store.job(id: "job_waiting") != nil)
        try await store.close()
    }
}
