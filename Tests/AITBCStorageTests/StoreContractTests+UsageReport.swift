import AITBCDomain
import AITBCStorage
import Foundation
import Testing

/// Usage reports on every backend: per-bucket sums of minutes and rolled-up hours, each counted
/// once, UTC hour and day buckets, per tenant or per key, and keyset pages that cover every row once.
extension StoreContractTests {
    /// Midnight UTC of the day holding ``now``.
    static let midnight: Int64 = Int64(now.timeIntervalSince1970) / 86400 * 86400

    /// Counts written to a store, and what a report must say about them.
    struct RecordedUsage {
        var entries: [(keyID: String, tenantID: String, minute: Int64, counts: UsageCounts)] = []

        mutating func add(_ keyID: String, _ tenantID: String, at minute: Int64, admitted: Int, rateLimited: Int = 0, errors: Int = 0) {
            entries.append((keyID, tenantID, minute, UsageCounts(admitted: admitted, rateLimited: rateLimited, errors: errors)))
        }

        /// The rows a report of `query` (all pages) must give, computed here, not in SQL.
        func expected(_ query: UsageReportQuery) -> [UsageReportRow] {
            var sums: [UsageReportPosition: UsageCounts] = [:]
            for entry in entries where entry.minute >= query.from && entry.minute < query.to {
                if let tenant = query.tenantID, tenant != entry.tenantID { continue }
                let position = UsageReportPosition(
                    bucket: query.granularity.floor(entry.minute), tenantID: entry.tenantID,
                    keyID: query.byKey ? entry.keyID : nil)
                sums[position, default: UsageCounts()] += entry.counts
            }
            return sums.map { UsageReportRow(bucket: $0.key.bucket, tenantID: $0.key.tenantID, keyID: $0.key.keyID, counts: $0.value) }
                .sorted { ($0.bucket, $0.tenantID, $0.keyID ?? "") < ($1.bucket, $1.tenantID, $1.keyID ?? "") }
        }
    }

    /// Every page of `query` at `limit` rows, following each page's last position.
    static func allPages(_ store: any CoordinatorStore, _ query: UsageReportQuery, limit: Int) async throws -> [UsageReportRow] {
        var rows: [UsageReportRow] = []
        var page = query
        page.limit = limit
        while true {
            let found = try await store.usageReport(page)
            #expect(found.count <= limit)
            rows += found
            guard found.count == limit, let last = found.last else { return rows }
            page.after = last.position
        }
    }

    /// Three keys in two tenants with traffic around a UTC midnight and an hour's edges; the oldest
    /// minutes rolled into hours, then a late minute added to a rolled-up hour.
    static func storeWithUsage(_ backend: String) async throws -> (any CoordinatorStore, RecordedUsage) {
        let store = try await prepared(backends.first { $0.name == backend }!.make)
        for (id, tenant) in [("key_a", "t1"), ("key_b", "t1"), ("key_c", "t2")] {
            try await store.insertKey(key(id, tenant: tenant), event: event(.keyCreated, tenant: tenant, target: id))
        }
        var recorded = RecordedUsage()
        let minutes: [Int64] = [-2 * 86400 + 300, -3600 - 60, -60, 0, 60, 3540, 3600, 86400 - 60, 86400, 86400 + 7200]
        for (index, offset) in minutes.enumerated() {
            recorded.add("key_a", "t1", at: midnight + offset, admitted: index + 1, rateLimited: index % 2, errors: index % 3)
            if index % 2 == 0 { recorded.add("key_b", "t1", at: midnight + offset, admitted: 10 * (index + 1)) }
            if index % 3 == 0 { recorded.add("key_c", "t2", at: midnight + offset, admitted: 100, errors: 1) }
        }
        func batch(_ entries: ArraySlice<(keyID: String, tenantID: String, minute: Int64, counts: UsageCounts)>) -> UsageBatch {
            var batch = UsageBatch()
            for entry in entries { batch.counts[UsageBucketKey(keyID: entry.keyID, minute: entry.minute), default: UsageCounts()] += entry.counts }
            return batch
        }
        try await store.addUsage(batch(recorded.entries[...]))
        // Everything before midnight becomes hours; then a minute arrives late for a rolled-up hour.
        #expect(try await store.rollUpUsageMinutes(before: midnight, limit: 1000) > 0)
        recorded.add("key_a", "t1", at: midnight - 3600 + 120, admitted: 7, rateLimited: 1, errors: 2)
        try await store.addUsage(batch(recorded.entries.suffix(1)))
        return (store, recorded)
    }

    @Test(arguments: backends.map { $0.name })
    func usageReportSumsMinutesAndRolledUpHoursOncePerUTCBucket(backend: String) async throws {
        let (store, recorded) = try await Self.storeWithUsage(backend)
        let from = Self.midnight - 3 * 86400, to = Self.midnight + 2 * 86400
        for granularity in UsageGranularity.allCases {
            for tenant in ["t1", "t2", nil] as [String?] {
                for byKey in [false, true] {
                    let query = UsageReportQuery(
                        granularity: granularity, from: from, to: to, tenantID: tenant, byKey: byKey, limit: 1000)
                    let rows = try await store.usageReport(query)
                    #expect(rows == recorded.expected(query), "\(granularity) \(tenant ?? "all") byKey: \(byKey)")
                    #expect(!rows.isEmpty)
                }
            }
        }
        // The UTC day holding midnight has the minutes from 00:00 to 23:59 and nothing of 23:59 the day before.
        let day = try await store.usageReport(
            UsageReportQuery(granularity: .day, from: Self.midnight, to: Self.midnight + 86400, tenantID: "t1", byKey: false, limit: 10))
        #expect(day.map(\.bucket) == [Self.midnight])
        #expect(day.first?.counts.admitted == (4 + 5 + 6 + 7 + 8) + (50 + 70))
        // The hour before midnight: its rolled-up hour and the late minute, summed once.
        let hour = try await store.usageReport(
            UsageReportQuery(granularity: .hour, from: Self.midnight - 3600, to: Self.midnight, tenantID: "t1", byKey: true, limit: 10))
        #expect(hour.map(\.keyID) == ["key_a", "key_b"])
        #expect(hour.first?.counts == UsageCounts(admitted: 3 + 7, rateLimited: 0 + 1, errors: 2 + 2))
        try await store.close()
    }

    @Test(arguments: backends.map { $0.name })
    func usageReportPagesCoverEveryRowExactlyOnce(backend: String) async throws {
        let (store, recorded) = try await Self.storeWithUsage(backend)
        for byKey in [false, true] {
            for tenant in ["t1", nil] as [String?] {
                let query = UsageReportQuery(
                    granularity: .hour, from: Self.midnight - 3 * 86400, to: Self.midnight + 2 * 86400, tenantID: tenant,
                    byKey: byKey, limit: 1000)
                let expected = recorded.expected(query)
                for limit in [1, 2, 3, 7] {
                    #expect(try await Self.allPages(store, query, limit: limit) == expected, "limit \(limit)")
                }
            }
        }
        // A range with no traffic has no rows: empty buckets are left out.
        let empty = UsageReportQuery(
            granularity: .hour, from: Self.midnight + 4 * 86400, to: Self.midnight + 5 * 86400, tenantID: nil, byKey: true, limit: 10)
        #expect(try await store.usageReport(empty).isEmpty)
        try await store.close()
    }
}
