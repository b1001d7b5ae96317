import AITBCDomain
import AITBCTestSupport
import Foundation
import NIOHTTP1
import Testing

/// Three coordinator processes on one PostgreSQL database share a tenant's quota and a key's
/// credits exactly: requests spread over them admit the quota and the credits, never more.
@Suite(.serialized, .enabled(if: PostgresTestServer.isConfigured, PostgresTestServer.skipComment), .timeLimit(.minutes(4)))
struct MultiInstanceQuotaTests {
    /// Sends `count` requests with `key`, spread over `servers`, all at once; their statuses.
    static func spread(_ count: Int, over servers: [CoordinatorProcess], key: String) async throws -> [Int] {
        try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<count {
                group.addTask { try await servers[index % servers.count].request(.GET, "/v1/jobs?limit=1", key: key).status }
            }
            var all: [Int] = []
            for try await status in group { all.append(status) }
            return all
        }
    }

    /// A client key of `test-tenant` created with `credits` and no refill, through `server`.
    static func meteredKey(on server: CoordinatorProcess, credits: Int) async throws -> (id: String, secret: String) {
        let created = try await server.request(
            .POST, "/v1/api-keys", key: MultiInstanceTests.operatorKey,
            body: #"{"name": "metered", "role": "client", "credits": {"remaining": \#(credits)}}"#,
            headers: ["X-Tenant-ID": "test-tenant"])
        #expect(created.status == 201)
        return (try #require(created.json["key_id"] as? String), try #require(created.json["api_key"] as? String))
    }

    @Test func threeTimesTheQuotaSpreadOverTheInstancesAdmitsExactlyTheQuota() async throws {
        let database = try await PostgresTestServer.createDatabase()
        let quota = 40
        // The quota comes with the tenant's plan, so no instance can hold the tenant without it: a quota
        // set by PATCH reaches the other instances within a second (NOTIFY), and requests sent in that
        // second are decided by what they knew before.
        let servers = try await MultiInstanceTests.instances(
            3, url: database.url, settings: ["AITBC_PLANS": "free=60,pro=600/day:\(quota),enterprise=100000000"])
        defer { for server in servers { server.terminate() } }
        let tenant = try await servers[0].request(
            .POST, "/v1/tenants", key: MultiInstanceTests.operatorKey,
            body: #"{"tenant_id": "quoted", "name": "Quoted", "plan": "pro"}"#)
        #expect(tenant.status == 201)
        // Created by the operator, whose requests count against its own tenant's quota, not this one's.
        let key = try await MultiInstanceTests.createKey(on: servers[2], role: "client", tenant: "quoted")
        let statuses = try await Self.spread(3 * quota, over: servers, key: key.secret)
        #expect(statuses.filter { $0 == 200 }.count == quota)
        #expect(statuses.filter { $0 == 429 }.count == 2 * quota, "\(statuses.sorted())")
        for server in servers {
            let after = try await server.request(.GET, "/v1/me", key: key.secret)
            #expect(after.status == 429)
            #expect((after.json["error"] as? [String: Any])?["code"] as? String == "QUOTA_EXCEEDED")
        }
        try await database.drop()
    }

    @Test func threeTimesTheCreditsSpreadOverTheInstancesSpendExactlyTheCredits() async throws {
        let database = try await PostgresTestServer.createDatabase()
        let servers = try await MultiInstanceTests.instances(3, url: database.url)
        defer { for server in servers { server.terminate() } }
        let credits = 30
        let (keyID, secret) = try await Self.meteredKey(on: servers[0], credits: credits)
        let statuses = try await Self.spread(3 * credits, over: servers, key: secret)
        #expect(statuses.filter { $0 == 200 }.count == credits)
        #expect(statuses.filter { $0 == 429 }.count == 2 * credits, "\(statuses.sorted())")
        // A top-up on one instance is spent exactly, wherever the requests go.
        let topped = try await servers[1].request(
            .PATCH, "/v1/api-keys/\(keyID)", key: MultiInstanceTests.operatorKey, body: #"{"credits": {"remaining": 7}}"#)
        #expect(topped.status == 200)
        let more = try await Self.spread(21, over: servers, key: secret)
        #expect(more.filter { $0 == 200 }.count == 7)
        try await database.drop()
    }

    /// A PATCH that changes only a key's refill keeps what the balance holds, including the slices
    /// other instances had leased of it: they go back to it. It used to set the balance to what the
    /// instance answering the PATCH read (the store's figure, without those slices) as a new setting,
    /// to which the slices then could not go back: 1,000 credits, 6 spent on two other instances,
    /// left about 870.
    @Test func aChangeOfRefillAloneKeepsTheCreditsOtherInstancesHold() async throws {
        let database = try await PostgresTestServer.createDatabase()
        let servers = try await MultiInstanceTests.instances(3, url: database.url)
        defer { for server in servers { server.terminate() } }
        let (keyID, secret) = try await Self.meteredKey(on: servers[0], credits: 1000)
        // Each of the two other instances leases a slice of the balance and spends 3 of it.
        for server in servers.dropFirst() {
            for _ in 0..<3 { #expect(try await server.request(.GET, "/v1/me", key: secret).status == 200) }
        }
        let changed = try await servers[0].request(
            .PATCH, "/v1/api-keys/\(keyID)", key: MultiInstanceTests.operatorKey,
            body: #"{"credits": {"refill": {"amount": 5000, "interval": "monthly"}}}"#)
        #expect(changed.status == 200)
        let credits = changed.json["credits"] as? [String: Any]
        #expect((credits?["refill"] as? [String: Any])?["amount"] as? Int == 5000)
        // The slices go back when the others hear of the change (NOTIFY, within a second) or at their
        // next flush: then the balance is what was given less what was spent, not refilled at once.
        var remaining: Int?
        for _ in 0..<100 {
            let key = try await servers[0].request(.GET, "/v1/api-keys/\(keyID)", key: MultiInstanceTests.operatorKey)
            remaining = (key.json["credits"] as? [String: Any])?["remaining"] as? Int
            if remaining == 994 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(remaining == 994)
        try await database.drop()
    }
}
