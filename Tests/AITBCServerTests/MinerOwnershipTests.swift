import AITBCDomain
import AITBCWire
import Foundation
import HTTPTypes
import HummingbirdTesting
import Synchronization
import Testing

@testable import AITBCServer

/// A miner id belongs to the key that registered it, and a result counts only from the current assignment.
@Suite struct MinerOwnershipTests {
    static let noWait = #"{"max_wait_seconds": 0}"#

    func submit(_ client: some TestClientProtocol) async throws -> String {
        let reply = try await client.send(.post, "/v1/jobs", key: Harness.clientKey, json: #"{"payload": {"prompt": "secret"}}"#)
        guard reply.status == .created, let id = reply.json["job_id"]?.stringValue else {
            throw HarnessError(description: "submit failed: \(reply.text)")
        }
        return id
    }

    @Test func anotherKeyNamingARegisteredMinerIsRefusedOnEveryMinerRoute() async throws {
        try await Harness.make().test { client in
            let registered = try await client.send(
                .post, "/v1/miners/register?miner_id=gpu-1", key: Harness.minerKey, json: #"{"capabilities": {}}"#)
            #expect(registered.status == .ok)
            let jobID = try await submit(client)
            let intruder = try await client.createKey(using: Harness.masterKey, name: "second miner", role: "miner").secret()
            // The intruder's poll names gpu-1: refused, and the job stays queued, unseen.
            let poll = try await client.send(.post, "/v1/miners/poll?miner_id=gpu-1", key: intruder, json: Self.noWait)
            #expect(poll.status == .forbidden)
            #expect(poll.errorCode == "MINER_NOT_OWNED")
            #expect(!poll.text.contains("secret"))
            #expect(try await client.send(.get, "/v1/jobs/\(jobID)", key: Harness.clientKey).json["state"] == "QUEUED")
            // The owner gets it; the intruder cannot report on it by naming the miner, by header or query.
            let owned = try await client.send(.post, "/v1/miners/poll", key: Harness.minerKey, json: Self.noWait)
            #expect(owned.json["job_id"]?.stringValue == jobID)
            #expect(owned.json["attempt"] == 1)
            let calls: [(HTTPRequest.Method, String, String?, [String: String])] = [
                (.post, "/v1/miners/register?miner_id=gpu-1", "{}", [:]),
                (.post, "/v1/miners/heartbeat", #"{"status": "ONLINE"}"#, ["X-Miner-ID": "gpu-1"]),
                (.post, "/v1/miners/drain?miner_id=gpu-1", nil, [:]),
                (.post, "/v1/miners/poll", Self.noWait, ["X-Miner-ID": "gpu-1"]),
                (.post, "/v1/miners/\(jobID)/result?miner_id=gpu-1", #"{"result": "forged"}"#, [:]),
                (.post, "/v1/miners/\(jobID)/fail", #"{"error_code": "X"}"#, ["X-Miner-ID": "gpu-1"]),
            ]
            for (method, path, body, headers) in calls {
                let reply = try await client.send(method, path, key: intruder, json: body, headers: headers)
                #expect(reply.status == .forbidden, "\(path)")
                #expect(reply.errorCode == "MINER_NOT_OWNED", "\(path)")
            }
            // Nothing the intruder sent changed the miner or the job.
            let job = try await client.send(.get, "/v1/jobs/\(jobID)", key: Harness.clientKey)
            #expect(job.json["state"] == "RUNNING")
            let miner = try #require(await client.minerStatus("gpu-1"))
            #expect(miner == "ONLINE")
            // AITBC's own flow (registered with ?miner_id=, then no id) still works for the owner.
            let done = try await client.send(.post, "/v1/miners/\(jobID)/result", key: Harness.minerKey, json: #"{"result": "ok"}"#)
            #expect(done.status == .ok)
        }
    }

    @Test func aMasterReleasesAMinerIdAndItsRunningJobsGoBackToTheQueue() async throws {
        try await Harness.make().test { client in
            _ = try await client.send(.post, "/v1/miners/register?miner_id=gpu-1", key: Harness.minerKey, json: "{}")
            let jobID = try await submit(client)
            #expect(try await client.send(.post, "/v1/miners/poll", key: Harness.minerKey, json: Self.noWait).status == .ok)
            let other = try await client.createKey(using: Harness.masterKey, name: "new owner", role: "miner").secret()
            // Neither another miner key nor a client key may release it.
            let byMiner = try await client.send(.delete, "/v1/miners/gpu-1", key: other)
            #expect(byMiner.errorCode == "MINER_NOT_OWNED")
            #expect(try await client.send(.delete, "/v1/miners/gpu-1", key: Harness.clientKey).status == .forbidden)
            #expect(try await client.send(.delete, "/v1/miners/nobody", key: Harness.masterKey).status == .notFound)
            let released = try await client.send(.delete, "/v1/miners/gpu-1", key: Harness.masterKey)
            #expect(released.status == .ok)
            #expect(released.json["requeued_jobs"] == 1)
            #expect(try await client.send(.get, "/v1/jobs/\(jobID)", key: Harness.clientKey).json["state"] == "QUEUED")
            // The old owner's late result for the taken-back job is refused and changes nothing.
            let late = try await client.send(.post, "/v1/miners/\(jobID)/result", key: Harness.minerKey, json: #"{"result": 1}"#)
            #expect(late.status == .conflict)
            // Now another key may register the id, and gets the job.
            let taken = try await client.send(.post, "/v1/miners/register?miner_id=gpu-1", key: other, json: "{}")
            #expect(taken.status == .ok)
            let poll = try await client.send(.post, "/v1/miners/poll?miner_id=gpu-1", key: other, json: Self.noWait)
            #expect(poll.json["job_id"]?.stringValue == jobID)
            #expect(poll.json["attempt"] == 2)
            #expect(try await client.send(.post, "/v1/miners/poll?miner_id=gpu-1", key: Harness.minerKey, json: Self.noWait).errorCode == "MINER_NOT_OWNED")
        }
    }

    @Test func aResultFromAnAssignmentTakenBackIsRefusedAndNeverOverwritesTheJob() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            _ = try await client.send(.post, "/v1/miners/register?miner_id=m", key: Harness.minerKey, json: "{}")
            let jobID = try await submit(client)
            let first = try await client.send(.post, "/v1/miners/poll?miner_id=m", key: Harness.minerKey, json: Self.noWait)
            #expect(first.json["attempt"] == 1)
            // Silent past the heartbeat timeout: the assignment is taken back, and the same miner gets it again.
            harness.clock.advance(by: 61)
            // Storage shows the job QUEUED a moment before the queue holds it again: poll until it comes.
            let taken = Mutex<Reply?>(nil)
            try await harness.sweep {
                let reply = try await client.send(.post, "/v1/miners/poll?miner_id=m", key: Harness.minerKey, json: Self.noWait)
                guard reply.json["job_id"]?.stringValue == jobID else { return false }
                taken.withLock { $0 = reply }
                return true
            }
            let second = try #require(taken.withLock { $0 })
            #expect(second.json["attempt"] == 2)
            let stale = try await client.send(
                .post, "/v1/miners/\(jobID)/result?miner_id=m", key: Harness.minerKey, json: #"{"result": "stale", "attempt": 1}"#)
            #expect(stale.status == .conflict)
            #expect(stale.errorCode == "CONFLICT_STATE")
            let staleFail = try await client.send(
                .post, "/v1/miners/\(jobID)/fail?miner_id=m", key: Harness.minerKey, json: #"{"error_code": "OOM", "attempt": 1}"#)
            #expect(staleFail.status == .conflict)
            #expect(try await client.send(.get, "/v1/jobs/\(jobID)", key: Harness.clientKey).json["state"] == "RUNNING")
            let current = try await client.send(
                .post, "/v1/miners/\(jobID)/result?miner_id=m", key: Harness.minerKey, json: #"{"result": "fresh", "attempt": 2}"#)
            #expect(current.status == .ok)
            let result = try await client.send(.get, "/v1/jobs/\(jobID)/result", key: Harness.clientKey)
            #expect(result.json["result"] == "fresh")
        }
    }

    @Test func aHeartbeatReportingOfflineRequeuesTheMinersJobsAtOnce() async throws {
        try await Harness.make().test { client in
            _ = try await client.send(.post, "/v1/miners/register?miner_id=leaving", key: Harness.minerKey, json: "{}")
            let jobID = try await submit(client)
            #expect(try await client.send(.post, "/v1/miners/poll?miner_id=leaving", key: Harness.minerKey, json: Self.noWait).status == .ok)
            let beat = try await client.send(
                .post, "/v1/miners/heartbeat?miner_id=leaving", key: Harness.minerKey, json: #"{"status": "OFFLINE", "inflight": 0}"#)
            #expect(beat.json["status"] == "OFFLINE")
            #expect(beat.json["running"] == 0)
            let job = try await client.send(.get, "/v1/jobs/\(jobID)", key: Harness.clientKey)
            #expect(job.json["state"] == "QUEUED")
            #expect(job.json["assigned_miner_id"] == .null)
            // Another miner picks it up without waiting for a sweep.
            _ = try await client.send(.post, "/v1/miners/register?miner_id=staying", key: Harness.minerKey, json: "{}")
            let taken = try await client.send(.post, "/v1/miners/poll?miner_id=staying", key: Harness.minerKey, json: Self.noWait)
            #expect(taken.json["job_id"]?.stringValue == jobID)
            // The miner that left cannot deliver it any more.
            let late = try await client.send(.post, "/v1/miners/\(jobID)/result?miner_id=leaving", key: Harness.minerKey, json: #"{"result": 1}"#)
            #expect(late.status == .conflict)
        }
    }
}

extension TestClientProtocol {
    /// The status of miner `id` of the development tenant, as a heartbeat of its owner (which changes no status but OFFLINE) reports it.
    func minerStatus(_ id: String) async throws -> String? {
        let heartbeat = try await send(
            .post, "/v1/miners/heartbeat?miner_id=\(id)", key: Harness.minerKey, json: #"{}"#)
        return heartbeat.json["status"]?.stringValue
    }
}
