import AITBCDomain
import AITBCStorage
import AITBCWire
import Foundation
import Testing

/// Retention, on every backend: what is past its age goes, what is younger (or still queued or
/// running) stays, batches of any size delete everything in the end, and usage totals survive the
/// roll-up into hours, also with two roll-ups running at once.
extension StoreContractTests {
    static let day: TimeInterval = 86400

    static func job(_ id: String, _ state: JobState, finishedDaysAgo days: Double?, requestedDaysAgo: Double = 60) -> Job {
        let requested = now.addingTimeInterval(-requestedDaysAgo * day)
        return Job(
            id: id, tenantID: "t1", clientKeyID: "key_c", payload: ["prompt": "p", "blob": .string(String(repeating: "x", count: 200))],
            constraints: nil, state: state, assignedMinerID: state == .running ? "m" : nil, ttlSeconds: 60,
            requestedAt: requested, expiresAt: requested.addingTimeInterval(60),
            finishedAt: days.map { now.addingTimeInterval(-$0 * day) }, result: state == .completed ? ["text": "ok"] : nil)
    }

    /// Calls `batch` with `limit` until it takes less than that; returns every count it returned.
    static func drained(limit: Int, _ batch: (Int) async throws -> Int) async throws -> [Int] {
        var counts: [Int] = []
        while true {
            let count = try await batch(limit)
            counts.append(count)
            if count < limit { return counts }
        }
    }

    static func total(_ rows: [(minute: Int64, counts: UsageCounts)]) -> UsageCounts {
        rows.reduce(into: UsageCounts()) { $0 += $1.counts }
    }

    @Test(arguments: backends.map { $0.name })
    func finishedJobsPastTheirAgeAreDeletedWhileLiveAndYoungerJobsStay(backend: String) async throws {
        let store = try await Self.prepared(Self.backends.first { $0.name == backend }!.make)
        let cutoff = Self.now.addingTimeInterval(-30 * Self.day)
        let gone = [
            Self.job("job_done", .completed, finishedDaysAgo: 31), Self.job("job_failed", .failed, finishedDaysAgo: 40),
            Self.job("job_canceled", .canceled, finishedDaysAgo: 30.001), Self.job("job_expired", .expired, finishedDaysAgo: 45),
        ]
        let kept = [
            Self.job("job_recent", .completed, finishedDaysAgo: 29.9),
            // Submitted long ago, but not finished: never deleted, however old.
            Self.job("job_queued", .queued, finishedDaysAgo: nil, requestedDaysAgo: 400),
            Self.job("job_running", .running, finishedDaysAgo: nil, requestedDaysAgo: 400),
        ]
        for job in gone + kept { #expect(try await store.insertJob(job, idempotency: nil) == .inserted) }

        #expect(try await store.deleteFinishedJobs(finishedBefore: cutoff, limit: 1000) == 4)
        for job in gone { #expect(try await store.job(id: job.id) == nil, "\(job.id)") }
        for job in kept { #expect(try await store.job(id: job.id) == job, "\(job.id)") }
        #expect(try await store.deleteFinishedJobs(finishedBefore: cutoff, limit: 1000) == 0)

        // In batches of two, seven old jobs all go, two at a time.
        for index in 0..<7 {
            _ = try await store.insertJob(Self.job("job_old_\(index)", .completed, finishedDaysAgo: 100), idempotency: nil)
        }
        let counts = try await Self.drained(limit: 2) { try await store.deleteFinishedJobs(finishedBefore: cutoff, limit: $0) }
        #expect(counts == [2, 2, 2, 1])
        #expect(try await store.jobs(inStates: [.queued, .running]).map(\.id).sorted() == ["job_queued", "job_running"])
        #expect(try await store.jobCountsByState()[.completed] == 1)
        try await store.close()
    }

    @Test(arguments: backends.map { $0.name })
    func idempotencyKeysOlderThanTheirWindowAreForgotten(backend: String) async throws {
        let store = try await Self.prepared(Self.backends.first { $0.name == backend }!.make)
        func keyed(_ id: String, _ key: String, hoursAgo: Double) -> (Job, IdempotencyRecord) {
            var job = Self.job(id, .queued, finishedDaysAgo: nil)
            job.requestedAt = Self.now.addingTimeInterval(-hoursAgo * 3600)
            return (job, IdempotencyRecord(key: key, requestDigest: [1], notBefore: .distantPast))
        }
        for (id, key, hours) in [("job_a", "old-1", 25.0), ("job_b", "old-2", 48), ("job_c", "old-3", 30), ("job_d", "fresh", 23)] {
            let (job, record) = keyed(id, key, hoursAgo: hours)
            #expect(try await store.insertJob(job, idempotency: record) == .inserted)
        }
        let cutoff = Self.now.addingTimeInterval(-RetentionPolicy.idempotencyWindow)
        #expect(try await Self.drained(limit: 2) { try await store.deleteIdempotencyKeys(usedBefore: cutoff, limit: $0) } == [2, 1])
        // A forgotten key is free again even for a caller that would accept any age; a kept one still answers.
        let (reuse, anyAge) = keyed("job_e", "old-1", hoursAgo: 0)
        #expect(try await store.insertJob(reuse, idempotency: anyAge) == .inserted)
        let (again, fresh) = keyed("job_f", "fresh", hoursAgo: 0)
        #expect(try await store.insertJob(again, idempotency: fresh) == .existing(jobID: "job_d", requestDigest: [1]))
        // Only the keys went: their jobs are the jobs' own business.
        #expect(try await store.job(id: "job_a") != nil)
        try await store.close()
    }

    @Test(arguments: backends.map { $0.name })
    func usageMinutesRollIntoHoursWithTheSameTotals(backend: String) async throws {
        let store = try await Self.prepared(Self.backends.first { $0.name == backend }!.make)
        let start = Int64(Self.now.timeIntervalSince1970) / 3600 * 3600 - 10 * 3600
        var counts: [UsageBucketKey: UsageCounts] = [:]
        // Ten hours of minutes for two keys, with counts that differ minute to minute.
        for minute in stride(from: start, to: start + 10 * 3600, by: 60) {
            let n = Int((minute - start) / 60)
            counts[UsageBucketKey(keyID: "key_a", minute: minute)] = UsageCounts(admitted: n % 7 + 1, rateLimited: n % 3, errors: n % 5 == 0 ? 1 : 0)
            if n % 4 == 0 { counts[UsageBucketKey(keyID: "key_b", minute: minute)] = UsageCounts(admitted: 2) }
        }
        try await store.addUsage(UsageBatch(counts: counts))
        let before = try await store.usage(keyID: "key_a", sinceMinute: 0)
        let beforeB = try await store.usage(keyID: "key_b", sinceMinute: 0)
        #expect(before.count == 600)

        // Minutes before the seventh hour go: 6 hours × (60 of key_a + 15 of key_b) rows, 7 at a time.
        let cutoff = start + 6 * 3600
        let rolled = try await Self.drained(limit: 7) { try await store.rollUpUsageMinutes(before: cutoff, limit: $0) }
        #expect(rolled.reduce(0, +) == 6 * 75)
        let after = try await store.usage(keyID: "key_a", sinceMinute: 0)
        #expect(Self.total(after) == Self.total(before))
        #expect(Self.total(try await store.usage(keyID: "key_b", sinceMinute: 0)) == Self.total(beforeB))
        // Six hourly rows, each the sum of its hour's minutes, then the untouched minutes.
        #expect(after.count == 6 + 4 * 60)
        for hour in 0..<6 {
            let begin = start + Int64(hour) * 3600
            let expected = Self.total(before.filter { $0.minute >= begin && $0.minute < begin + 3600 })
            #expect(after.first { $0.minute == begin }?.counts == expected, "hour \(hour)")
        }
        #expect(Array(after.suffix(240)).map(\.minute) == before.suffix(240).map(\.minute))
        // Reading from an hour on includes that hour's row; reading from its middle does not.
        #expect(try await store.usage(keyID: "key_a", sinceMinute: start + 5 * 3600).first?.minute == start + 5 * 3600)
        #expect(try await store.usage(keyID: "key_a", sinceMinute: start + 5 * 3600 + 60).count == 240)

        // A minute of a rolled hour written late (a slow flush) is added to that hour by the next roll-up.
        try await store.addUsage(UsageBatch(counts: [UsageBucketKey(keyID: "key_a", minute: start + 60): UsageCounts(admitted: 100)]))
        #expect(try await store.rollUpUsageMinutes(before: cutoff, limit: 1000) == 1)
        let late = try await store.usage(keyID: "key_a", sinceMinute: 0)
        #expect(late.first { $0.minute == start }?.counts.admitted == (after.first { $0.minute == start }?.counts.admitted ?? 0) + 100)
        #expect(Self.total(late).admitted == Self.total(before).admitted + 100)
        #expect(try await store.rollUpUsageMinutes(before: cutoff, limit: 1000) == 0)

        // Hours past their age go in batches too; younger hours and every minute stay.
        let hoursGone = try await Self.drained(limit: 4) { try await store.deleteUsageHours(before: start + 3 * 3600, limit: $0) }
        #expect(hoursGone.reduce(0, +) == 3 + 3)
        let left = try await store.usage(keyID: "key_a", sinceMinute: 0)
        #expect(left.first?.minute == start + 3 * 3600)
        #expect(left.count == 3 + 240)
        try await store.close()
    }

    @Test(arguments: backends.map { $0.name })
    func twoRollUpsAtOnceCountEveryMinuteOnce(backend: String) async throws {
        let store = try await Self.prepared(Self.backends.first { $0.name == backend }!.make)
        let start = Int64(Self.now.timeIntervalSince1970) / 3600 * 3600 - 5 * 3600
        var counts: [UsageBucketKey: UsageCounts] = [:]
        for key in ["key_a", "key_b", "key_c"] {
            for minute in stride(from: start, to: start + 4 * 3600, by: 60) {
                counts[UsageBucketKey(keyID: key, minute: minute)] = UsageCounts(admitted: Int(minute % 13) + 1, errors: 1)
            }
        }
        try await store.addUsage(UsageBatch(counts: counts))
        var before: [String: UsageCounts] = [:]
        for key in ["key_a", "key_b", "key_c"] { before[key] = Self.total(try await store.usage(keyID: key, sinceMinute: 0)) }

        // As two instances would: each takes batches the other does not hold, until none is left.
        let cutoff = start + 4 * 3600
        let taken = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<2 {
                group.addTask {
                    try await Self.drained(limit: 25) { try await store.rollUpUsageMinutes(before: cutoff, limit: $0) }.reduce(0, +)
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(taken == 3 * 4 * 60)
        for key in ["key_a", "key_b", "key_c"] {
            let after = try await store.usage(keyID: key, sinceMinute: 0)
            #expect(Self.total(after) == before[key], "\(key)")
            #expect(after.count == 4, "\(key): one row per hour")
        }
        try await store.close()
    }

    @Test(arguments: backends.map { $0.name })
    func expiredSessionsAndOldAuditEventsAreDeletedInBatches(backend: String) async throws {
        let store = try await Self.prepared(Self.backends.first { $0.name == backend }!.make)
        let tenant = Tenant(id: "t_acct", name: "ann@example.com", plan: "free", createdAt: Self.now)
        let account = Account(
            id: "acct_1", email: "ann@example.com", passwordHash: "$2b$04$hash", tenantID: "t_acct", createdAt: Self.now)
        #expect(try await store.insertAccount(
            account, tenant: tenant, masterKey: Self.key("key_master", tenant: "t_acct", role: .master), events: []))
        func session(_ token: String, expiresIn seconds: TimeInterval) -> DashboardSession {
            DashboardSession(
                digest: DashboardSession.digest(of: token), accountID: "acct_1", csrfToken: "csrf", createdAt: Self.now,
                expiresAt: Self.now.addingTimeInterval(seconds))
        }
        let expired = (0..<5).map { session("old-\($0)", expiresIn: -Double($0) - 1) } + [session("now", expiresIn: 0)]
        let live = [session("live-1", expiresIn: 1), session("live-2", expiresIn: 3600)]
        for item in expired + live { try await store.insertSession(item) }
        #expect(try await Self.drained(limit: 4) { try await store.deleteExpiredSessions(at: Self.now, limit: $0) } == [4, 2])
        for item in expired { #expect(try await store.session(digest: item.digest) == nil) }
        for item in live { #expect(try await store.session(digest: item.digest) == item) }

        for index in 0..<5 { try await store.insertAuditEvent(Self.event(.keyCreated, target: "old-\(index)", at: -401 * Self.day - Double(index))) }
        try await store.insertAuditEvent(Self.event(.keyRevoked, target: "young", at: -399 * Self.day))
        let cutoff = Self.now.addingTimeInterval(-400 * Self.day)
        #expect(try await Self.drained(limit: 2) { try await store.deleteAuditEvents(recordedBefore: cutoff, limit: $0) } == [2, 2, 1])
        #expect(try await store.auditEvents(tenantID: "t1", after: nil, limit: 10).map(\.targetID) == ["young"])
        try await store.close()
    }
}
