import AITBCDomain
import AITBCServer
import Foundation
import Testing

/// The caps on long-polls waiting at once, over real sockets: the poll beyond a key's or a
/// tenant's cap is 429 with the bound named, other tenants keep polling, and a slot is free again
/// the moment its poll ends (answered, or its client gone).
@Suite(.serialized) struct LongPollCapTests {
    /// Starts a poll of `key` for `minerID` on its own connection; it waits up to 30 s.
    static func startPoll(port: Int, key: String, minerID: String) async throws -> WireClient {
        let connection = try await WireClient.connect(port: port)
        try await connection.sendRequest(
            "POST", "/v1/miners/poll?miner_id=\(minerID)", key: key, body: #"{"max_wait_seconds": 30}"#)
        return connection
    }

    /// Creates tenant `id` (as the operator) and returns its first master key.
    static func createTenant(port: Int, _ id: String) async throws -> String {
        let created = try await WireClient.call(
            port: port, "POST", "/v1/tenants", key: Harness.operatorKey,
            body: #"{"tenant_id": "\#(id)", "name": "Tenant \#(id)", "plan": "enterprise"}"#)
        return try #require((created.json["master_key"] as? [String: Any])?["api_key"] as? String, "\(created.body)")
    }

    /// Creates a key of `role` with `master` and returns its secret.
    static func createKey(port: Int, using master: String, role: String) async throws -> String {
        let created = try await WireClient.call(
            port: port, "POST", "/v1/api-keys", key: master, body: #"{"name": "k", "role": "\#(role)"}"#)
        return try #require(created.json["api_key"] as? String, "\(created.body)")
    }

    @Test func thePollBeyondAKeysCapIsRefusedWhileAnotherTenantPollsAndAFreedSlotIsTakenAgain() async throws {
        let harness = try await Harness.make { settings in
            settings.maximumPollsPerKey = 2
            settings.maximumPollsPerTenant = 100
        }
        try await harness.serve { port in
            let otherMaster = try await Self.createTenant(port: port, "other")
            let otherMiner = try await Self.createKey(port: port, using: otherMaster, role: "miner")
            let otherClient = try await Self.createKey(port: port, using: otherMaster, role: "client")
            let me = try await WireClient.call(port: port, "GET", "/v1/me", key: Harness.minerKey)
            let minerKeyID = try #require(me.json["key_id"] as? String)
            let polls = harness.coordinator.longPolls

            let first = try await Self.startPoll(port: port, key: Harness.minerKey, minerID: "m1")
            let second = try await Self.startPoll(port: port, key: Harness.minerKey, minerID: "m2")
            try await waitUntil { polls.waiting(keyID: minerKeyID) == 2 }

            let third = try await WireClient.connect(port: port)
            let refused = try await third.request(
                "POST", "/v1/miners/poll?miner_id=m3", key: Harness.minerKey, body: #"{"max_wait_seconds": 30}"#)
            #expect(refused.status == 429)
            #expect(refused.errorCode == "RATE_LIMIT_EXCEEDED")
            #expect(refused.errorDetails["bound"] as? String == "long_polls_per_key")
            #expect(refused.errorDetails["limit"] as? Int == 2)
            #expect(refused.headers["retry-after"] == "1")
            #expect(polls.waiting(keyID: minerKeyID) == 2)

            // A poll that does not wait needs no slot.
            #expect(try await third.request(
                "POST", "/v1/miners/poll?miner_id=m3", key: Harness.minerKey, body: #"{"max_wait_seconds": 0}"#).status == 204)

            // Another tenant's miner still polls: it waits, and gets its own tenant's job.
            let foreign = try await Self.startPoll(port: port, key: otherMiner, minerID: "f1")
            try await waitUntil { polls.waiting(tenantID: "other") == 1 }
            let job = try await WireClient.call(
                port: port, "POST", "/v1/jobs", key: otherClient, body: #"{"payload": {"n": 1}}"#)
            let delivered = try #require(try await foreign.response(within: .seconds(15)))
            #expect(delivered.status == 200)
            #expect(delivered.json["job_id"] as? String == job.json["job_id"] as? String)
            try await waitUntil { polls.waiting(tenantID: "other") == 0 }

            // A job ends one of the key's polls: its slot is free, and the next poll takes it and waits.
            _ = try await WireClient.call(port: port, "POST", "/v1/jobs", key: Harness.clientKey, body: #"{"payload": {"n": 2}}"#)
            try await waitUntil { polls.waiting(keyID: minerKeyID) == 1 }
            let answered = [first, second].first { !$0.isClosed }
            #expect(answered != nil)
            let fourth = try await Self.startPoll(port: port, key: Harness.minerKey, minerID: "m4")
            try await waitUntil { polls.waiting(keyID: minerKeyID) == 2 }
            #expect(try await fourth.response(within: .milliseconds(300)) == nil, "the fourth poll waits")

            // A poll whose client has gone gives its slot back at once (once it watches its connection,
            // which it does before it waits in the queue).
            try await waitUntil { await harness.coordinator.miners.waitingPolls() == 2 }
            await fourth.close()
            try await waitUntil { polls.waiting(keyID: minerKeyID) == 1 }
            for connection in [first, second, third, foreign] { await connection.close() }
            try await waitUntil { polls.total == 0 }
        }
    }

    @Test func thePollBeyondATenantsCapIsRefusedForEveryKeyOfTheTenantButNotForKeysWithoutThePermission() async throws {
        let harness = try await Harness.make { settings in
            settings.maximumPollsPerKey = 10
            settings.maximumPollsPerTenant = 2
        }
        try await harness.serve { port in
            let secondMiner = try await Self.createKey(port: port, using: Harness.masterKey, role: "miner")
            let otherMiner = try await Self.createKey(port: port, using: try await Self.createTenant(port: port, "other"), role: "miner")
            let polls = harness.coordinator.longPolls

            let waiting = [
                try await Self.startPoll(port: port, key: Harness.minerKey, minerID: "a1"),
                try await Self.startPoll(port: port, key: Harness.minerKey, minerID: "a2"),
            ]
            try await waitUntil { polls.waiting(tenantID: "test-tenant") == 2 }

            // Another key of the same tenant, under its own cap, meets the tenant's.
            let probe = try await WireClient.connect(port: port)
            let refused = try await probe.request(
                "POST", "/v1/miners/poll?miner_id=b1", key: secondMiner, body: #"{"max_wait_seconds": 30}"#)
            #expect(refused.status == 429)
            #expect(refused.errorDetails["bound"] as? String == "long_polls_per_tenant")
            #expect(refused.errorDetails["limit"] as? Int == 2)

            // A key that may not poll is told so (403), and takes no slot.
            let forbidden = try await probe.request(
                "POST", "/v1/miners/poll", key: Harness.clientKey, body: #"{"max_wait_seconds": 30}"#)
            #expect(forbidden.status == 403)
            #expect(forbidden.errorCode == "INSUFFICIENT_SCOPE")

            // The other tenant's cap is its own.
            let foreign = [
                try await Self.startPoll(port: port, key: otherMiner, minerID: "f1"),
                try await Self.startPoll(port: port, key: otherMiner, minerID: "f2"),
            ]
            try await waitUntil { polls.waiting(tenantID: "other") == 2 }
            #expect(polls.waiting(tenantID: "test-tenant") == 2)
            // Every poll watches its connection before it waits in the queue: close them only then.
            try await waitUntil { await harness.coordinator.miners.waitingPolls() == 4 }
            for connection in waiting + foreign + [probe] { await connection.close() }
            try await waitUntil { polls.total == 0 }
        }
    }
}
