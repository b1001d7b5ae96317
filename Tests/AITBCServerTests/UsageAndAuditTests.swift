import AITBCDomain
import AITBCWire
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import AITBCServer

/// Per-key usage (batched to storage) and the audit log.
@Suite struct UsageAndAuditTests {
    @Test func usageCountsAdmittedRateLimitedAndErrors() async throws {
        let harness = try await Harness.make(plan: "pro")
        try await harness.test { client in
            let created = try await client.createKey(using: Harness.masterKey, extra: #", "rate_limit_per_minute": 4"#)
            let secret = try #require(created.apiKey)
            for _ in 0..<3 { _ = try await client.send(.get, "/v1/jobs", key: secret, from: "192.0.2.10") }
            _ = try await client.send(.get, "/v1/api-keys", key: secret, from: "192.0.2.10")  // 403: an error
            for _ in 0..<2 { _ = try await client.send(.get, "/v1/jobs", key: secret, from: "192.0.2.10") }  // 429s

            func usage() async throws -> KeyUsageView {
                try await client.send(.get, "/v1/api-keys/\(created.keyID)/usage", key: Harness.masterKey)
                    .decode(KeyUsageView.self)
            }
            let before = try await usage()
            #expect(before.totals.admitted == 3)
            #expect(before.totals.errors == 1)
            #expect(before.totals.rateLimited == 2)
            #expect(before.lastUsedFrom == "192.0.2.10")
            #expect(before.lastUsedAt == harness.clock.now())
            #expect(before.minutes.count == 1)
            #expect(before.hours.count == 1)

            // Written in a batch: the same numbers come back from storage, not doubled.
            #expect(await harness.coordinator.flusher.flush())
            let after = try await usage()
            #expect(after.totals == before.totals)
            #expect(after.lastUsedFrom == "192.0.2.10")
            let view = try await client.send(.get, "/v1/api-keys/\(created.keyID)", key: Harness.masterKey)
            #expect(view.json["last_used_from"] == "192.0.2.10")
        }
    }

    @Test func usageIsWrittenInBatchesNotPerRequest() async throws {
        // No timed flush during the test, however slow the machine: only the explicit one below.
        let harness = try await Harness.make { $0.usageFlushIntervalSeconds = 3600 }
        try await harness.test { client in
            for _ in 0..<20 { _ = try await client.send(.get, "/v1/jobs", key: Harness.clientKey) }
            let stored = try await harness.coordinator.store.usage(keyID: "key_dev_client", sinceMinute: 0)
            #expect(stored.isEmpty)
            #expect(await harness.coordinator.flusher.flush())
            let written = try await harness.coordinator.store.usage(keyID: "key_dev_client", sinceMinute: 0)
            #expect(written.map(\.counts.admitted).reduce(0, +) == 20)
        }
    }

    @Test func usageRouteAnswersTheSameOnceOlderMinutesAreRolledIntoHours() async throws {
        // Minutes are kept 25 hours, the least allowed: the last day is still read from minutes.
        let harness = try await Harness.make { $0.retention.usageMinutesHours = 25 }
        try await harness.test { client in
            // Traffic every 2 hours and a few minutes over 40 hours: 1, 2, 3, … requests each time.
            var sent = 0
            for step in 0..<20 {
                for _ in 0...(step % 4) { #expect(try await client.send(.get, "/v1/jobs", key: Harness.clientKey).status == .ok) }
                sent += step % 4 + 1
                harness.clock.advance(by: 2 * 3600 + 7 * 60)
            }
            #expect(await harness.coordinator.flusher.flush())
            func usage() async throws -> KeyUsageView {
                try await client.send(.get, "/v1/api-keys/key_dev_client/usage", key: Harness.masterKey).decode(KeyUsageView.self)
            }
            let before = try await usage()
            #expect(before.hours.count >= 10)

            let swept = try await harness.coordinator.retention.sweep()
            #expect(swept.usageMinutesRolledUp > 0)
            let after = try await usage()
            #expect(after == before)
            // Nothing is lost: minutes older than a day now live on as hours, and every request is counted.
            let stored = try await harness.coordinator.store.usage(keyID: "key_dev_client", sinceMinute: 0)
            #expect(stored.map(\.counts.admitted).reduce(0, +) == sent)
            #expect(stored.contains { $0.minute % 3600 == 0 })
        }
    }

    @Test func auditLogRecordsKeyAndTenantChangesNewestFirst() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            let created = try await client.createKey(using: Harness.masterKey, name: "audited")
            harness.clock.advance(by: 1)
            _ = try await client.send(.post, "/v1/api-keys/\(created.keyID)/regenerate", key: Harness.masterKey)
            harness.clock.advance(by: 1)
            _ = try await client.send(.delete, "/v1/api-keys/\(created.keyID)", key: Harness.masterKey)
            harness.clock.advance(by: 1)
            _ = try await client.send(.patch, "/v1/tenants/test-tenant", key: Harness.operatorKey, json: #"{"plan": "pro"}"#)

            let page = try await client.send(.get, "/v1/audit-events", key: Harness.masterKey).decode(Page<AuditEventView>.self)
            #expect(page.items.map(\.type) == ["tenant.updated", "api_key.revoked", "api_key.regenerated", "api_key.created"])
            #expect(page.items[1].targetID == created.keyID)
            #expect(page.items[1].actorKeyID == "key_dev_master")
            #expect(page.items[0].data["plan"] == ["from": "enterprise", "to": "pro"])
            #expect(try await client.send(.get, "/v1/audit-events", key: Harness.clientKey).errorCode == "INSUFFICIENT_SCOPE")
        }
    }
}
