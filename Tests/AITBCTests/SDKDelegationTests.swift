import AITBC
import Foundation
import Testing

/// The SDK's side of the delegation rule, miner ownership and assignment attempts, against a live server.
@Suite struct SDKDelegationTests {
    @Test func keysChangeWithinTheCallersReachAndRefusalsNameWhatIsMissing() async throws {
        try await LiveServer.run { url in
            let master = try LiveServer.sdk(url, key: LiveServer.master)
            let narrowed = try await master.apiKeys.create(name: "reader maker", role: "master", scopes: ["keys:read", "keys:write", "jobs:read"])
            let reader = try await master.apiKeys.create(name: "reader", role: "client", scopes: ["jobs:read"])
            let limited = try await master.apiKeys.update(reader.keyID, name: "slow reader", rateLimitPerMinute: .some(5))
            #expect(limited.name == "slow reader")
            #expect(limited.rateLimitPerMinute == 5)
            #expect(limited.scopes == ["jobs:read"])

            let delegate = try LiveServer.sdk(url, key: try #require(narrowed.apiKey))
            do {
                _ = try await delegate.apiKeys.update(reader.keyID, scopes: .some(nil))
                Issue.record("widening a client key to jobs:write was allowed")
            } catch let error as PermissionError {
                #expect(error.info.code == "INSUFFICIENT_SCOPE")
                #expect(error.info.details["missing"] == ["jobs:write"])
            }
            let cleared = try await delegate.apiKeys.update(reader.keyID, rateLimitPerMinute: .some(nil))
            #expect(cleared.rateLimitPerMinute == nil)
        }
    }

    @Test func aStaleAttemptIsAConflictAndAReleasedMinerIdChangesHands() async throws {
        try await LiveServer.run { url, coordinator in
            let client = try LiveServer.sdk(url, key: LiveServer.client)
            let miner = try LiveServer.sdk(url, key: LiveServer.miner)
            let master = try LiveServer.sdk(url, key: LiveServer.master)
            _ = try await miner.miners.register(minerID: "rig", capabilities: [:])
            let job = try await client.jobs.create(payload: ["n": 1])
            let first = try #require(try await miner.miners.poll(minerID: "rig", maxWait: .seconds(2)))
            #expect(first.attempt == 1)
            // The miner says it is going away: the assignment is taken back at once.
            _ = try await miner.miners.heartbeat(minerID: "rig", status: "OFFLINE")
            #expect(try await client.jobs.get(job.jobID).state == "QUEUED")
            let second = try #require(try await miner.miners.poll(minerID: "rig", maxWait: .seconds(2)))
            #expect(second.attempt == 2)
            await #expect(throws: ConflictError.self) {
                try await miner.miners.submitResult(job.jobID, minerID: "rig", attempt: 1, result: "stale")
            }
            let released = try await master.miners.release("rig")
            #expect(released.requeuedJobs == 1)
            let newcomer = try LiveServer.sdk(url, key: try #require(try await master.apiKeys.create(name: "rig 2", role: "miner").apiKey))
            _ = try await newcomer.miners.register(minerID: "rig", capabilities: [:])
            let third = try #require(try await newcomer.miners.poll(minerID: "rig", maxWait: .seconds(2)))
            #expect(third.jobID == job.jobID)
            #expect(third.attempt == 3)
            try await newcomer.miners.submitResult(job.jobID, minerID: "rig", attempt: 3, result: "done")
            #expect(try await client.jobs.result(job.jobID).result == "done")
            do {
                _ = try await miner.miners.poll(minerID: "rig", maxWait: .zero)
                Issue.record("the old key still polls as rig")
            } catch let error as PermissionError {
                #expect(error.info.code == "MINER_NOT_OWNED")
            }
            _ = coordinator
        }
    }
}
