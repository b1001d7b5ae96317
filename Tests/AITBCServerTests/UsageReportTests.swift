import AITBCDomain
import AITBCWire
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import AITBCServer

/// `GET /v1/usage`: sums, UTC buckets, per-key rows, pages, CSV, bad parameters, and who sees what.
@Suite struct UsageReportTests {
    /// Midnight UTC of the harness clock's first day (it starts at 11:06:40).
    static let midnight = Date(timeIntervalSince1970: TimeInterval(Int(1_795_000_000) / 86400 * 86400))

    static func harness() async throws -> Harness {
        // No timed flush during a test: what is written is what the test (or a report) wrote.
        try await Harness.make { $0.usageFlushIntervalSeconds = 3600 }
    }

    static func at(_ seconds: TimeInterval) -> Date { midnight.addingTimeInterval(seconds) }
    static func stamp(_ seconds: TimeInterval) -> String { RFC3339.string(from: at(seconds)) }

    /// Records `count` requests of `keyID` at `date` (as the middleware would).
    static func record(_ harness: Harness, _ keyID: String, at date: Date, count: Int = 1, outcome: RequestOutcome = .admitted) {
        for _ in 0..<count { harness.coordinator.usage.record(keyID: keyID, outcome: outcome, at: date, from: nil) }
    }

    @Test func reportIncludesThisInstancesUnwrittenCountsByFlushingFirst() async throws {
        let harness = try await Self.harness()
        try await harness.test { client in
            for _ in 0..<5 { #expect(try await client.send(.get, "/v1/jobs", key: Harness.clientKey).status == .ok) }
            _ = try await client.send(.get, "/v1/api-keys", key: Harness.clientKey)  // 403: an error
            #expect(try await harness.coordinator.store.usage(keyID: "key_dev_client", sinceMinute: 0).isEmpty)
            let reply = try await client.send(.get, "/v1/usage?group_by=key", key: Harness.masterKey)
            #expect(reply.status == .ok, "\(reply.text)")
            let page = try reply.decode(UsageReportPage.self)
            let row = try #require(page.items.first { $0.keyID == "key_dev_client" })
            #expect(row.admitted == 5 && row.rateLimited == 0 && row.errors == 1)
            #expect(row.tenantID == "test-tenant")
            // Written by the report, not only read from memory: storage has them now.
            let stored = try await harness.coordinator.store.usage(keyID: "key_dev_client", sinceMinute: 0)
            #expect(stored.map(\.counts.admitted).reduce(0, +) == 5)
            // Defaults: the last 24 hours, ending with the current hour.
            #expect(page.granularity == "hour")
            #expect(page.to == Self.at(12 * 3600))
            #expect(page.from == Self.at(-12 * 3600))
            #expect(row.start == Self.at(11 * 3600) && row.end == Self.at(12 * 3600))
        }
    }

    @Test func hoursAndDaysAreUTCBucketsWithFromInclusiveAndToExclusive() async throws {
        let harness = try await Self.harness()
        try await harness.test { client in
            for (offset, count) in [(-86400.0 - 1, 100), (-60.0, 1), (0.0, 2), (3599.0, 4), (3600.0, 8), (86400.0, 1000)] {
                Self.record(harness, "key_dev_client", at: Self.at(offset), count: count)
            }
            func rows(_ query: String) async throws -> [UsageReportRowView] {
                let reply = try await client.send(.get, "/v1/usage?group_by=key&\(query)", key: Harness.masterKey)
                #expect(reply.status == .ok, "\(reply.text)")
                return try reply.decode(UsageReportPage.self).items.filter { $0.keyID == "key_dev_client" }
            }
            let hours = try await rows("from=\(Self.stamp(-3600))&to=\(Self.stamp(7200))")
            #expect(hours.map(\.start) == [Self.at(-3600), Self.at(0), Self.at(3600)])
            #expect(hours.map(\.admitted) == [1, 6, 8])
            let days = try await rows("granularity=day&from=\(Self.stamp(-86400))&to=\(Self.stamp(86400))")
            #expect(days.map(\.start) == [Self.at(-86400), Self.at(0)])
            #expect(days.map(\.end) == [Self.at(0), Self.at(86400)])
            #expect(days.map(\.admitted) == [1, 14])
            // A range off the bucket edges is widened to whole buckets, and says so.
            let reply = try await client.send(
                .get, "/v1/usage?granularity=day&from=\(Self.stamp(-60))&to=\(Self.stamp(60))", key: Harness.masterKey)
            let widened = try reply.decode(UsageReportPage.self)
            #expect(widened.from == Self.at(-86400) && widened.to == Self.at(86400))
            #expect(widened.items.map(\.admitted).reduce(0, +) >= 1 + 14)
        }
    }

    @Test func minutesRolledIntoHoursAreCountedOnceWithLateMinutes() async throws {
        let harness = try await Harness.make {
            $0.usageFlushIntervalSeconds = 3600
            $0.retention.usageMinutesHours = 25
        }
        try await harness.test { client in
            let hour = -2 * 86400.0
            Self.record(harness, "key_dev_client", at: Self.at(hour + 60), count: 3)
            Self.record(harness, "key_dev_client", at: Self.at(hour + 1800), count: 4, outcome: .rateLimited)
            #expect(await harness.coordinator.flusher.flush())
            #expect(try await harness.coordinator.retention.sweep().usageMinutesRolledUp > 0)
            Self.record(harness, "key_dev_client", at: Self.at(hour + 3000), count: 5)
            let reply = try await client.send(
                .get, "/v1/usage?from=\(Self.stamp(hour))&to=\(Self.stamp(hour + 3600))", key: Harness.masterKey)
            let page = try reply.decode(UsageReportPage.self)
            #expect(page.items.count == 1)
            #expect(page.items.first?.admitted == 8 && page.items.first?.rateLimited == 4)
        }
    }

    @Test func groupByKeyGivesOneRowPerKeyPerBucketAndTenantRowsSumThem() async throws {
        let harness = try await Self.harness()
        try await harness.test { client in
            let other = try await client.createKey(using: Harness.masterKey, name: "batch")
            for (key, count) in [("key_dev_client", 3), ("key_dev_miner", 5), (other.keyID, 7)] {
                Self.record(harness, key, at: Self.at(-7200), count: count)
                Self.record(harness, key, at: Self.at(-3600), count: 1, outcome: .error)
            }
            let range = "from=\(Self.stamp(-7200))&to=\(Self.stamp(0))"
            let byKey = try await client.send(.get, "/v1/usage?group_by=key&\(range)", key: Harness.masterKey)
                .decode(UsageReportPage.self)
            #expect(byKey.items.count == 6)
            #expect(byKey.items.map(\.start) == [-7200, -7200, -7200, -3600, -3600, -3600].map(Self.at))
            #expect(Set(byKey.items.prefix(3).compactMap(\.keyID)) == ["key_dev_client", "key_dev_miner", other.keyID])
            #expect(byKey.items.prefix(3).map(\.admitted).sorted() == [3, 5, 7])
            let perTenant = try await client.send(.get, "/v1/usage?\(range)", key: Harness.masterKey).decode(UsageReportPage.self)
            #expect(perTenant.items.map(\.admitted) == [15, 0])
            #expect(perTenant.items.map(\.errors) == [0, 3])
            #expect(perTenant.items.allSatisfy { $0.keyID == nil && $0.tenantID == "test-tenant" })
            #expect(!perTenant.hasMore && perTenant.nextCursor == nil)
        }
    }

    @Test func smallPagesWalkEveryRowExactlyOnce() async throws {
        let harness = try await Self.harness()
        try await harness.test { client in
            let keys = ["key_dev_client", "key_dev_miner", "key_dev_master"]
            for hour in 0..<5 {
                for (index, key) in keys.enumerated() where (hour + index) % 2 == 0 {
                    Self.record(harness, key, at: Self.at(-86400 + Double(hour) * 3600), count: hour * 10 + index + 1)
                }
            }
            let base = "/v1/usage?group_by=key&from=\(Self.stamp(-86400))&to=\(Self.stamp(-86400 + 5 * 3600))"
            let all = try await client.send(.get, base, key: Harness.masterKey).decode(UsageReportPage.self).items
            #expect(all.count == 8)
            for limit in [1, 2, 3] {
                var walked: [UsageReportRowView] = []
                var cursor: String?
                repeat {
                    let uri = base + "&limit=\(limit)" + (cursor.map { "&cursor=\($0)" } ?? "")
                    let page = try await client.send(.get, uri, key: Harness.masterKey).decode(UsageReportPage.self)
                    #expect(page.items.count <= limit)
                    #expect(page.hasMore == (page.nextCursor != nil))
                    walked += page.items
                    cursor = page.nextCursor
                } while cursor != nil
                #expect(walked == all, "limit \(limit)")
            }
            // A cursor alone continues the report it came from (its range and grouping).
            let first = try await client.send(.get, base + "&limit=2", key: Harness.masterKey).decode(UsageReportPage.self)
            let next = try await client.send(
                .get, "/v1/usage?limit=6&cursor=\(try #require(first.nextCursor))", key: Harness.masterKey
            ).decode(UsageReportPage.self)
            #expect(first.items + next.items == all)
        }
    }

    /// A client that sends `from` but leaves `to` to the server ("until now") and follows the cursor
    /// across the turn of an hour gets the rest of its report: the bound it left out is the cursor's,
    /// not the new hour's (the Swift SDK's paging failed with 400 "cursor belongs to a different
    /// report" when a report was read across an hour boundary).
    @Test func aCursorContinuesAcrossTheTurnOfTheHourWhenToIsLeftToTheServer() async throws {
        let harness = try await Self.harness()
        try await harness.test { client in
            for hour in 0..<3 {
                Self.record(harness, "key_dev_client", at: Self.at(-86400 + Double(hour) * 3600), count: hour + 1)
            }
            // A second before the hour ends (the clock starts at 11:06:40).
            harness.clock.set(Self.at(12 * 3600 - 1))
            let base = "/v1/usage?from=\(Self.stamp(-86400))&limit=1"
            var walked: [UsageReportRowView] = []
            var page = try await client.send(.get, base, key: Harness.masterKey).decode(UsageReportPage.self)
            walked += page.items
            harness.clock.set(Self.at(12 * 3600 + 1))
            while let cursor = page.nextCursor {
                let reply = try await client.send(.get, base + "&cursor=\(cursor)", key: Harness.masterKey)
                #expect(reply.status == .ok, "\(reply.text)")
                guard reply.status == .ok else { break }
                page = try reply.decode(UsageReportPage.self)
                walked += page.items
            }
            // The three hours recorded, then this hour's row of the report's own requests (until the
            // first page's hour ended: the report's range).
            #expect(walked.map(\.admitted).prefix(3) == [1, 2, 3])
            #expect(walked.count == 4)
        }
    }
}
