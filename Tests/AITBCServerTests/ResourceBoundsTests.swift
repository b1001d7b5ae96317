import AITBCStorage
import AITBCWire
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

// The restart test reads a queue it loads itself, which only the domain sees.
@testable import AITBCDomain
@testable import AITBCServer

/// One tenant cannot take the queue from the others: queued, running and miner quotas per plan,
/// and size bounds on what stays in memory (constraints, capabilities).
@Suite struct ResourceBoundsTests {
    static let noWait = #"{"max_wait_seconds": 0}"#

    /// A free tenant `id` with a client, a miner and its master key.
    static func freeTenant(_ id: String, client: some TestClientProtocol) async throws -> (client: String, miner: String, master: String) {
        let tenant = try await client.createTenant(id)
        let master = try #require(tenant.masterKey?.apiKey)
        let clientKey = try await client.createKey(using: master, role: "client").secret()
        let minerKey = try await client.createKey(using: master, role: "miner").secret()
        return (clientKey, minerKey, master)
    }

    static func submit(_ client: some TestClientProtocol, key: String, constraints: String = "{}") async throws -> Reply {
        try await client.send(.post, "/v1/jobs", key: key, json: #"{"payload": {"n": 1}, "constraints": \#(constraints)}"#)
    }

    @Test func aTenantOverItsQueuedQuotaIsRefusedWhileOthersKeepSubmitting() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            let greedy = try await Self.freeTenant("greedy", client: client)
            let quiet = try await Self.freeTenant("quiet", client: client)
            var accepted: [String] = []
            for _ in 0..<20 {
                let reply = try await Self.submit(client, key: greedy.client)
                #expect(reply.status == .created)
                accepted.append(try #require(reply.json["job_id"]?.stringValue))
            }
            let refused = try await Self.submit(client, key: greedy.client)
            #expect(refused.status == .tooManyRequests)
            #expect(refused.errorCode == "JOB_QUOTA_EXCEEDED")
            #expect(refused.json["error"]?["details"]?["quota"] == "queued_jobs")
            #expect(refused.json["error"]?["details"]?["limit"] == 20)
            #expect(refused.header("Retry-After") != nil)
            #expect(refused.header("X-RateLimit-Limit") == "60")
            // Nothing was written for the refused job.
            let listed = try await client.send(.get, "/v1/jobs?limit=100", key: greedy.client)
            #expect(listed.json["items"]?.arrayValue?.count == 20)
            // The other free tenant is untouched.
            #expect(try await Self.submit(client, key: quiet.client).status == .created)
            // A job leaving the queue frees a place.
            #expect(try await client.send(.post, "/v1/miners/poll", key: greedy.miner, json: Self.noWait).status == .ok)
            #expect(try await Self.submit(client, key: greedy.client).status == .created)
            #expect(try await Self.submit(client, key: greedy.client).status == .tooManyRequests)
        }
    }

    @Test func aTenantRunsNoMoreThanItsRunningQuotaAndAWaitingMinerGetsTheNextWhenOneEnds() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            let free = try await Self.freeTenant("runner", client: client)
            _ = try await client.send(.post, "/v1/miners/register?miner_id=big", key: free.miner, json: #"{"concurrency": 10}"#)
            var jobs: [String] = []
            for _ in 0..<6 { jobs.append(try #require(try await Self.submit(client, key: free.client).json["job_id"]?.stringValue)) }
            var running: [String] = []
            for _ in 0..<4 {
                let poll = try await client.send(.post, "/v1/miners/poll?miner_id=big", key: free.miner, json: Self.noWait)
                running.append(try #require(poll.json["job_id"]?.stringValue))
            }
            // Four run: the plan's bound, though the miner could take ten.
            #expect(try await client.send(.post, "/v1/miners/poll?miner_id=big", key: free.miner, json: Self.noWait).status == .noContent)
            #expect(await harness.coordinator.jobs.runningCount(of: "runner") == 4)
            // A poll that waits gets the next job as soon as one of the four ends.
            let waiting = Task {
                try await client.send(.post, "/v1/miners/poll?miner_id=big", key: free.miner, json: #"{"max_wait_seconds": 30}"#)
            }
            let deadline = ContinuousClock.now + .seconds(20)
            while await harness.coordinator.miners.waitingPolls() < 1 {
                try #require(ContinuousClock.now < deadline, "the poll never started waiting")
                try await Task.sleep(for: .milliseconds(5))
            }
            let done = try await client.send(
                .post, "/v1/miners/\(running[0])/result?miner_id=big", key: free.miner, json: #"{"result": 1}"#)
            #expect(done.status == .ok)
            let handed = try await waiting.value
            #expect(handed.status == .ok)
            #expect(handed.json["job_id"]?.stringValue == jobs[4])
            #expect(await harness.coordinator.jobs.runningCount(of: "runner") == 4)
        }
    }

    @Test func constraintsCapabilitiesAndHeartbeatMetadataHaveTheirOwnSizeBounds() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            let big = String(repeating: "x", count: 17 * 1024)
            let constraints = try await Self.submit(client, key: Harness.clientKey, constraints: #"{"notes": "\#(big)"}"#)
            #expect(constraints.status == .contentTooLarge)
            #expect(constraints.errorCode == "PAYLOAD_TOO_LARGE")
            #expect(constraints.json["error"]?["details"]?["field"] == "constraints")
            // What matching keeps in memory is small: long matched texts and long model lists are refused.
            let longRegion = try await Self.submit(
                client, key: Harness.clientKey, constraints: #"{"region": "\#(String(repeating: "r", count: 129))"}"#)
            #expect(longRegion.status == .badRequest)
            #expect(longRegion.json["error"]?["details"]?["field"] == "constraints.region")
            let manyModels = (0..<33).map { "\"m\($0)\"" }.joined(separator: ",")
            let models = try await Self.submit(client, key: Harness.clientKey, constraints: #"{"models": [\#(manyModels)]}"#)
            #expect(models.json["error"]?["details"]?["field"] == "constraints.models")
            // The payload keeps its own, larger bound.
            let payload = try await client.send(
                .post, "/v1/jobs", key: Harness.clientKey, json: #"{"payload": {"text": "\#(big)"}, "constraints": {"gpu": "4090"}}"#)
            #expect(payload.status == .created)
            let capabilities = try await client.send(
                .post, "/v1/miners/register?miner_id=fat", key: Harness.minerKey, json: #"{"capabilities": {"notes": "\#(big)"}}"#)
            #expect(capabilities.status == .contentTooLarge)
            #expect(capabilities.json["error"]?["details"]?["field"] == "capabilities")
            #expect(await harness.coordinator.miners.miner(MinerKey(tenantID: "test-tenant", minerID: "fat")) == nil)
            _ = try await client.send(.post, "/v1/miners/register?miner_id=fat", key: Harness.minerKey, json: "{}")
            let metadata = try await client.send(
                .post, "/v1/miners/heartbeat?miner_id=fat", key: Harness.minerKey, json: #"{"metadata": {"notes": "\#(big)"}}"#)
            #expect(metadata.status == .contentTooLarge)
            #expect(metadata.json["error"]?["details"]?["field"] == "metadata")
        }
    }

    @Test func aTenantRegistersNoMoreMinersThanItsPlanAllows() async throws {
        try await Harness.make().test { client in
            let free = try await Self.freeTenant("rigs", client: client)
            for index in 0..<5 {
                let reply = try await client.send(.post, "/v1/miners/register?miner_id=rig-\(index)", key: free.miner, json: "{}")
                #expect(reply.status == .ok)
            }
            let sixth = try await client.send(.post, "/v1/miners/register?miner_id=rig-5", key: free.miner, json: "{}")
            #expect(sixth.status == .tooManyRequests)
            #expect(sixth.errorCode == "JOB_QUOTA_EXCEEDED")
            #expect(sixth.json["error"]?["details"]?["quota"] == "miners")
            // A default miner (a key polling without naming one) counts too; known miners re-register freely.
            let second = try await client.createKey(using: free.master, role: "miner").secret()
            let implicit = try await client.send(.post, "/v1/miners/poll", key: second, json: Self.noWait)
            #expect(implicit.errorCode == "JOB_QUOTA_EXCEEDED")
            #expect(try await client.send(.post, "/v1/miners/register?miner_id=rig-0", key: free.miner, json: "{}").status == .ok)
            // Releasing one frees a place.
            #expect(try await client.send(.delete, "/v1/miners/rig-1", key: free.master).status == .ok)
            #expect(try await client.send(.post, "/v1/miners/register?miner_id=rig-5", key: free.miner, json: "{}").status == .ok)
        }
    }

    @Test func minersUnseenForLongAreForgottenAndTheirIdsFreed() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            _ = try await client.send(.post, "/v1/miners/register?miner_id=ghost", key: Harness.minerKey, json: "{}")
            _ = try await client.send(.post, "/v1/miners/register?miner_id=alive", key: Harness.minerKey, json: "{}")
            harness.clock.advance(by: 61)
            _ = await harness.coordinator.sweeper.sweep()  // both silent: OFFLINE
            harness.clock.advance(by: 7 * 24 * 3600 - 100)
            _ = try await client.send(.post, "/v1/miners/heartbeat?miner_id=alive", key: Harness.minerKey, json: "{}")
            harness.clock.advance(by: 200)
            try await harness.sweep {
                await harness.coordinator.miners.miner(MinerKey(tenantID: "test-tenant", minerID: "ghost")) == nil
            }
            #expect(try await harness.coordinator.store.miner(tenantID: "test-tenant", id: "ghost") == nil)
            #expect(try await harness.coordinator.store.miner(tenantID: "test-tenant", id: "alive") != nil)
            // Its id is free for another key now.
            let other = try await client.createKey(using: Harness.masterKey, role: "miner").secret()
            #expect(try await client.send(.post, "/v1/miners/register?miner_id=ghost", key: other, json: "{}").status == .ok)
        }
    }

    @Test func aRestartRestoresTheQueueWithoutReadingPayloads() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            for index in 0..<3 {
                _ = try await client.send(
                    .post, "/v1/jobs", key: Harness.clientKey,
                    json: #"{"payload": {"blob": "\#(String(repeating: "p", count: 1000))"}, "constraints": {"min_vram_gb": \#(index * 8)}}"#)
            }
            let active = try await harness.coordinator.store.activeJobs()
            #expect(active.count == 3)
            #expect(Set(active.map(\.requirement.minimumVRAMGB)) == [0, 8, 16])
            let restored = JobQueue()
            await restored.load(jobs: active, miners: try await harness.coordinator.store.miners())
            #expect(await restored.depth(of: "test-tenant") == 3)
            #expect(await restored.queuedJobs(of: "test-tenant").map(\.requirement.minimumVRAMGB) == [0, 8, 16])
        }
    }
}
