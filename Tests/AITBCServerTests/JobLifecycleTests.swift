import AITBCDomain
import AITBCWire
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import AITBCServer

/// The job flow as AITBC's own clients and miners drive it, and its rules.
@Suite struct JobLifecycleTests {
    static let capabilities = #"{"capabilities": {"gpu": {"model": "RTX 4060 Ti", "memory_gb": 16, "cuda_version": "12.4"}, "compute": {"type": "GPU", "models": ["llama3.2"]}}}"#

    @Test func aitbcClientAndMinerRoundTrip() async throws {
        try await Harness.make().test { client in
            let submitted = try await client.send(
                .post, "/v1/jobs", key: Harness.clientKey,
                json: #"{"payload": {"type": "inference", "prompt": "hello", "model": "llama3.2"}, "ttl_seconds": 900}"#)
            #expect(submitted.status == .created)
            let jobID = try #require(submitted.json["job_id"]?.stringValue)
            #expect(submitted.json["state"] == "QUEUED")
            #expect(submitted.json["assigned_miner_id"] == .null)
            #expect(submitted.json["requested_at"]?.stringValue?.hasSuffix("Z") == true)
            #expect(submitted.json["expires_at"]?.stringValue != nil)

            let registered = try await client.send(
                .post, "/v1/miners/register?miner_id=gpu-1", key: Harness.minerKey, json: Self.capabilities)
            #expect(registered.status == .ok)
            let heartbeat = try await client.send(
                .post, "/v1/miners/heartbeat?miner_id=gpu-1", key: Harness.minerKey,
                json: #"{"status": "ONLINE", "inflight": 0, "metadata": {"host": "box"}}"#)
            #expect(heartbeat.status == .ok)
            #expect(heartbeat.json["miner_id"] == "gpu-1")
            #expect(heartbeat.json["status"] == "ONLINE")

            // The miner polls and reports without naming itself: it is the one this key registered last.
            let polled = try await client.send(.post, "/v1/miners/poll", key: Harness.minerKey, json: #"{"max_wait_seconds": 5}"#)
            #expect(polled.status == .ok)
            #expect(polled.json["job_id"]?.stringValue == jobID)
            #expect(polled.json["payload"]?["prompt"] == "hello")
            #expect(polled.json["constraints"] == .object([:]))

            let running = try await client.send(.get, "/v1/jobs/\(jobID)", key: Harness.clientKey)
            #expect(running.json["state"] == "RUNNING")
            #expect(running.json["assigned_miner_id"] == "gpu-1")
            let early = try await client.send(.get, "/v1/jobs/\(jobID)/result", key: Harness.clientKey)
            #expect(early.status.code == 425)
            #expect(early.errorCode == "JOB_NOT_READY")

            let delivered = try await client.send(
                .post, "/v1/miners/\(jobID)/result", key: Harness.minerKey,
                json: #"{"result": {"output": "hi there", "tokens": 3}, "metrics": {"duration_ms": 42}}"#)
            #expect(delivered.status == .ok)
            #expect(delivered.json["state"] == "COMPLETED")

            let result = try await client.send(.get, "/v1/jobs/\(jobID)/result", key: Harness.clientKey)
            #expect(result.status == .ok)
            #expect(result.json["result"]?["output"] == "hi there")
            #expect(result.json["receipt"]?["job_id"]?.stringValue == jobID)
            #expect(result.json["receipt"]?["provider"] == "gpu-1")
            #expect(result.json["receipt"]?["signature"]?["alg"] == "Ed25519")
        }
    }

    @Test func illegalTransitionsAreConflicts() async throws {
        try await Harness.make().test { client in
            let jobID = try await submit(client)
            _ = try await client.send(.post, "/v1/miners/register?miner_id=m1", key: Harness.minerKey, json: "{}")
            // A queued job cannot be completed or failed.
            let early = try await client.send(.post, "/v1/miners/\(jobID)/result?miner_id=m1", key: Harness.minerKey, json: #"{"result": 1}"#)
            #expect(early.errorCode == "CONFLICT_STATE")
            _ = try await client.send(.post, "/v1/miners/poll?miner_id=m1", key: Harness.minerKey, json: #"{"max_wait_seconds": 0}"#)
            let done = try await client.send(.post, "/v1/miners/\(jobID)/result?miner_id=m1", key: Harness.minerKey, json: #"{"result": 1}"#)
            #expect(done.status == .ok)
            for (method, path, key, body) in [
                (HTTPRequest.Method.post, "/v1/jobs/\(jobID)/cancel", Harness.clientKey, nil as String?),
                (.delete, "/v1/jobs/\(jobID)", Harness.clientKey, nil),
                (.post, "/v1/miners/\(jobID)/result?miner_id=m1", Harness.minerKey, #"{"result": 2}"#),
                (.post, "/v1/miners/\(jobID)/fail?miner_id=m1", Harness.minerKey, #"{"error_code": "X"}"#),
            ] {
                let reply = try await client.send(method, path, key: key, json: body)
                #expect(reply.status == .conflict, "\(method) \(path)")
                #expect(reply.errorCode == "CONFLICT_STATE")
                #expect(reply.json["error"]?["details"]?["state"] == "COMPLETED")
            }
        }
    }

    @Test func onlyTheAssignedMinerMayReport() async throws {
        try await Harness.make().test { client in
            let jobID = try await submit(client)
            _ = try await client.send(.post, "/v1/miners/register?miner_id=a", key: Harness.minerKey, json: "{}")
            _ = try await client.send(.post, "/v1/miners/register?miner_id=b", key: Harness.minerKey, json: "{}")
            let polled = try await client.send(.post, "/v1/miners/poll?miner_id=a", key: Harness.minerKey, json: #"{"max_wait_seconds": 0}"#)
            #expect(polled.json["job_id"]?.stringValue == jobID)
            let other = try await client.send(.post, "/v1/miners/\(jobID)/result?miner_id=b", key: Harness.minerKey, json: #"{"result": 1}"#)
            #expect(other.status == .conflict)
            let fail = try await client.send(
                .post, "/v1/miners/\(jobID)/fail?miner_id=a", key: Harness.minerKey,
                json: #"{"error_code": "OOM", "error_message": "out of memory", "metrics": {}}"#)
            #expect(fail.status == .ok)
            let view = try await client.send(.get, "/v1/jobs/\(jobID)", key: Harness.clientKey)
            #expect(view.json["state"] == "FAILED")
            #expect(view.json["error"] == "out of memory")
            #expect(view.json["error_code"] == "OOM")
            #expect(try await client.send(.get, "/v1/jobs/\(jobID)/result", key: Harness.clientKey).status == .conflict)
        }
    }

    @Test func aKeyRunningSeveralMinersMayReportWithoutNamingOne() async throws {
        try await Harness.make().test { client in
            let jobID = try await submit(client)
            _ = try await client.send(.post, "/v1/miners/register?miner_id=a", key: Harness.minerKey, json: "{}")
            _ = try await client.send(.post, "/v1/miners/poll?miner_id=a", key: Harness.minerKey, json: #"{"max_wait_seconds": 0}"#)
            _ = try await client.send(.post, "/v1/miners/register?miner_id=b", key: Harness.minerKey, json: "{}")
            let otherKey = try #require(try await client.createKey(using: Harness.masterKey, role: "miner").apiKey)
            let stranger = try await client.send(.post, "/v1/miners/\(jobID)/result", key: otherKey, json: #"{"result": 1}"#)
            #expect(stranger.status == .conflict)
            // Registered b last, but a's job may still be reported by the key that runs a.
            let own = try await client.send(.post, "/v1/miners/\(jobID)/result", key: Harness.minerKey, json: #"{"result": 1}"#)
            #expect(own.status == .ok)
        }
    }

    @Test func cancelQueuedAndRunningJobs() async throws {
        try await Harness.make().test { client in
            let queued = try await submit(client)
            let canceled = try await client.send(.post, "/v1/jobs/\(queued)/cancel", key: Harness.clientKey)
            #expect(canceled.json["state"] == "CANCELED")
            // A canceled job is never handed out.
            let none = try await client.send(.post, "/v1/miners/poll", key: Harness.minerKey, json: #"{"max_wait_seconds": 0}"#)
            #expect(none.status == .noContent)
            let running = try await submit(client)
            _ = try await client.send(.post, "/v1/miners/poll", key: Harness.minerKey, json: #"{"max_wait_seconds": 0}"#)
            let deleted = try await client.send(.delete, "/v1/jobs/\(running)", key: Harness.clientKey)
            #expect(deleted.json["state"] == "CANCELED")
            let late = try await client.send(.post, "/v1/miners/\(running)/result", key: Harness.minerKey, json: #"{"result": 1}"#)
            #expect(late.errorCode == "CONFLICT_STATE")
        }
    }

    @Test func idempotencyKeyReplaysAndConflicts() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            let body = #"{"payload": {"type": "inference", "prompt": "once"}}"#
            let first = try await client.send(.post, "/v1/jobs", key: Harness.clientKey, json: body, headers: ["Idempotency-Key": "abc-1"])
            #expect(first.status == .created)
            // Same request, keys in another order: the same job.
            let again = try await client.send(
                .post, "/v1/jobs", key: Harness.masterKey, json: #"{"payload": {"prompt": "once", "type": "inference"}}"#,
                headers: ["Idempotency-Key": "abc-1"])
            #expect(again.status == .ok)
            #expect(again.json["job_id"] == first.json["job_id"])
            let different = try await client.send(
                .post, "/v1/jobs", key: Harness.clientKey, json: #"{"payload": {"prompt": "twice"}}"#,
                headers: ["Idempotency-Key": "abc-1"])
            #expect(different.status == .conflict)
            #expect(different.errorCode == "IDEMPOTENCY_CONFLICT")
            // After 24 hours the key is forgotten.
            harness.clock.advance(by: 24 * 3600 + 1)
            let later = try await client.send(.post, "/v1/jobs", key: Harness.clientKey, json: body, headers: ["Idempotency-Key": "abc-1"])
            #expect(later.status == .created)
            #expect(later.json["job_id"] != first.json["job_id"])
            let list = try await client.send(.get, "/v1/jobs", key: Harness.clientKey).decode(Page<JobView>.self)
            #expect(list.items.count == 2)
        }
    }

    @Test func idempotencyKeysArePerTenant() async throws {
        try await Harness.make().test { client in
            let acme = try #require(try await client.createTenant("acme", plan: "pro").masterKey?.apiKey)
            let body = #"{"payload": {"n": 1}}"#
            let one = try await client.send(.post, "/v1/jobs", key: Harness.clientKey, json: body, headers: ["Idempotency-Key": "k"])
            let two = try await client.send(.post, "/v1/jobs", key: acme, json: #"{"payload": {"n": 2}}"#, headers: ["Idempotency-Key": "k"])
            #expect(one.status == .created)
            #expect(two.status == .created)
        }
    }

    @Test func pollTimesOutWith204AndWakesOnSubmit() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            let start = ContinuousClock.now
            let empty = try await client.send(.post, "/v1/miners/poll", key: Harness.minerKey, json: #"{"max_wait_seconds": 0.3}"#)
            #expect(empty.status == .noContent)
            #expect(ContinuousClock.now - start >= .milliseconds(250))

            try await withThrowingTaskGroup(of: Reply.self) { group in
                group.addTask {
                    try await client.send(.post, "/v1/miners/poll", key: Harness.minerKey, json: #"{"max_wait_seconds": 60}"#)
                }
                // Submit only once the poll waits in the queue: then only a wake-up can answer it in time.
                try await waitUntil { await harness.coordinator.miners.waitingPolls() == 1 }
                let submitted = ContinuousClock.now
                let jobID = try await submit(client)
                let polled = try #require(try await group.next())
                #expect(polled.status == .ok)
                #expect(polled.json["job_id"]?.stringValue == jobID)
                // Woken by the submission, not by its 60 s wait running out (room for a loaded machine).
                #expect(ContinuousClock.now - submitted < .seconds(20))
            }
        }
    }

    @Test func aHeartbeatKeepsAMinerOnlinePastTheTimeoutAndStoresWhatItReports() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            let jobID = try await submit(client)
            _ = try await client.send(.post, "/v1/miners/register?miner_id=steady", key: Harness.minerKey, json: Self.capabilities)
            let polled = try await client.send(.post, "/v1/miners/poll?miner_id=steady", key: Harness.minerKey, json: #"{"max_wait_seconds": 0}"#)
            #expect(polled.json["job_id"]?.stringValue == jobID)
            // Heartbeats every 40 s: 120 s in all, twice the 60 s timeout, and the miner stays.
            for _ in 0..<3 {
                harness.clock.advance(by: 40)
                let beat = try await client.send(
                    .post, "/v1/miners/heartbeat?miner_id=steady", key: Harness.minerKey,
                    json: #"{"status": "ONLINE", "inflight": 1, "metadata": {"host": "box-7", "gpu_temp_c": 71}}"#)
                #expect(beat.status == .ok)
                #expect(beat.json["status"] == "ONLINE")
                #expect(beat.json["running"] == 1)
                #expect(beat.json["last_seen_at"]?.stringValue == RFC3339.string(from: harness.clock.now()))
                #expect(await harness.coordinator.sweeper.sweep().requeued == 0)
            }
            #expect(try await client.send(.get, "/v1/jobs/\(jobID)", key: Harness.clientKey).json["state"] == "RUNNING")
            let stats = try await client.send(.get, "/v1/admin/stats", key: Harness.masterKey)
            #expect(stats.json["miners_online"] == 1)
            // What it reported is stored, not only kept in memory.
            let stored = try #require(try await harness.coordinator.store.miner(tenantID: "test-tenant", id: "steady"))
            #expect(stored.status == .online)
            #expect(stored.reportedInflight == 1)
            #expect(stored.metadata == ["host": "box-7", "gpu_temp_c": 71])
            #expect(stored.lastSeenAt == harness.clock.now())

            // Without heartbeats, the same miner goes OFFLINE at the timeout and its job returns to the queue.
            harness.clock.advance(by: 61)
            try await harness.sweep {
                try await client.send(.get, "/v1/jobs/\(jobID)", key: Harness.clientKey).json["state"] == "QUEUED"
            }
            #expect(try await client.send(.get, "/v1/admin/stats", key: Harness.masterKey).json["miners_online"] == 0)
            #expect(try await harness.coordinator.store.miner(tenantID: "test-tenant", id: "steady")?.status == .offline)
        }
    }

    @Test func concurrencyBoundsRunningJobsAndDrainStopsNewOnes() async throws {
        try await Harness.make().test { client in
            _ = try await client.send(.post, "/v1/miners/register?miner_id=m", key: Harness.minerKey, json: #"{"concurrency": 2}"#)
            for _ in 0..<3 { _ = try await submit(client) }
            let poll = #"{"max_wait_seconds": 0}"#
            #expect(try await client.send(.post, "/v1/miners/poll?miner_id=m", key: Harness.minerKey, json: poll).status == .ok)
            #expect(try await client.send(.post, "/v1/miners/poll?miner_id=m", key: Harness.minerKey, json: poll).status == .ok)
            #expect(try await client.send(.post, "/v1/miners/poll?miner_id=m", key: Harness.minerKey, json: poll).status == .noContent)
            _ = try await client.send(.post, "/v1/miners/register?miner_id=n", key: Harness.minerKey, json: "{}")
            let drained = try await client.send(.post, "/v1/miners/drain?miner_id=n", key: Harness.minerKey)
            #expect(drained.json["status"] == "DRAINING")
            #expect(try await client.send(.post, "/v1/miners/poll?miner_id=n", key: Harness.minerKey, json: poll).status == .noContent)
        }
    }

    @Test func silentMinerGoesOfflineAndItsJobsReturnToTheQueue() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            let jobID = try await submit(client)
            _ = try await client.send(.post, "/v1/miners/register?miner_id=quiet", key: Harness.minerKey, json: "{}")
            _ = try await client.send(.post, "/v1/miners/poll?miner_id=quiet", key: Harness.minerKey, json: #"{"max_wait_seconds": 0}"#)
            harness.clock.advance(by: 59)
            #expect(await harness.coordinator.sweeper.sweep().requeued == 0)
            harness.clock.advance(by: 2)
            try await harness.sweep {
                try await client.send(.get, "/v1/jobs/\(jobID)", key: Harness.clientKey).json["state"] == "QUEUED"
            }
            let view = try await client.send(.get, "/v1/jobs/\(jobID)", key: Harness.clientKey)
            #expect(view.json["state"] == "QUEUED")
            #expect(view.json["assigned_miner_id"] == .null)
            _ = try await client.send(.post, "/v1/miners/register?miner_id=fresh", key: Harness.minerKey, json: "{}")
            let taken = try await client.send(.post, "/v1/miners/poll?miner_id=fresh", key: Harness.minerKey, json: #"{"max_wait_seconds": 0}"#)
            #expect(taken.json["job_id"]?.stringValue == jobID)
            // The silent miner's late result is refused: the job is no longer its.
            let late = try await client.send(.post, "/v1/miners/\(jobID)/result?miner_id=quiet", key: Harness.minerKey, json: #"{"result": 1}"#)
            #expect(late.status == .conflict)
        }
    }

    @Test func queuedJobExpiresAfterItsTTL() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            let reply = try await client.send(.post, "/v1/jobs", key: Harness.clientKey, json: #"{"payload": {}, "ttl_seconds": 10}"#)
            let jobID = try #require(reply.json["job_id"]?.stringValue)
            harness.clock.advance(by: 9)
            #expect(await harness.coordinator.sweeper.sweep().expired == 0)
            harness.clock.advance(by: 1)
            try await harness.sweep {
                try await client.send(.get, "/v1/jobs/\(jobID)", key: Harness.clientKey).json["state"] == "EXPIRED"
            }
            let view = try await client.send(.get, "/v1/jobs/\(jobID)", key: Harness.clientKey)
            #expect(view.json["state"] == "EXPIRED")
            #expect(try await client.send(.post, "/v1/miners/poll", key: Harness.minerKey, json: #"{"max_wait_seconds": 0}"#).status == .noContent)
        }
    }

    @Test func constraintsDecideWhichMinerGetsAJob() async throws {
        try await Harness.make().test { client in
            _ = try await client.send(.post, "/v1/miners/register?miner_id=small", key: Harness.minerKey, json: Self.capabilities)
            _ = try await client.send(
                .post, "/v1/miners/register?miner_id=big", key: Harness.minerKey,
                json: #"{"capabilities": {"gpu": {"model": "RTX 4090", "memory_gb": 24, "cuda_version": "12.6"}, "models": ["llama3.2", "mixtral"]}, "region": "eu-west"}"#)
            let job = try await client.send(
                .post, "/v1/jobs", key: Harness.clientKey,
                json: #"{"payload": {}, "constraints": {"gpu": "4090", "min_vram_gb": 20, "cuda": "12.5", "models": ["mixtral"], "region": "eu-west"}}"#)
            let poll = #"{"max_wait_seconds": 0}"#
            #expect(try await client.send(.post, "/v1/miners/poll?miner_id=small", key: Harness.minerKey, json: poll).status == .noContent)
            let big = try await client.send(.post, "/v1/miners/poll?miner_id=big", key: Harness.minerKey, json: poll)
            #expect(big.json["job_id"] == job.json["job_id"])
            #expect(big.json["constraints"]?["gpu"] == "4090")
        }
    }

    @Test func waitingMinerWithFewestRunningJobsGetsTheJob() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            _ = try await client.send(.post, "/v1/miners/register?miner_id=busy", key: Harness.minerKey, json: #"{"concurrency": 4}"#)
            _ = try await client.send(.post, "/v1/miners/register?miner_id=idle", key: Harness.minerKey, json: #"{"concurrency": 4}"#)
            _ = try await submit(client)
            _ = try await client.send(.post, "/v1/miners/poll?miner_id=busy", key: Harness.minerKey, json: #"{"max_wait_seconds": 0}"#)
            try await withThrowingTaskGroup(of: (String, Reply).self) { group in
                for miner in ["busy", "idle"] {
                    group.addTask {
                        (miner, try await client.send(.post, "/v1/miners/poll?miner_id=\(miner)", key: Harness.minerKey, json: #"{"max_wait_seconds": 3}"#))
                    }
                }
                // Both miners must be waiting when the job arrives, however slow the machine.
                try await waitUntil { await harness.coordinator.miners.waitingPolls() == 2 }
                _ = try await submit(client)
                var statuses: [String: HTTPResponse.Status] = [:]
                for try await (miner, reply) in group { statuses[miner] = reply.status }
                #expect(statuses["idle"] == .ok)
                #expect(statuses["busy"] == .noContent)
            }
        }
    }

    @Test func listingPagesNewestFirstAndFiltersByState() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            var ids: [String] = []
            for _ in 0..<5 {
                harness.clock.advance(by: 1)
                ids.append(try await submit(client))
            }
            _ = try await client.send(.post, "/v1/jobs/\(ids[0])/cancel", key: Harness.clientKey)
            let first = try await client.send(.get, "/v1/jobs?limit=2", key: Harness.clientKey).decode(Page<JobView>.self)
            #expect(first.items.map(\.jobID) == [ids[4], ids[3]])
            let second = try await client.send(
                .get, "/v1/jobs?limit=2&cursor=\(try #require(first.nextCursor))", key: Harness.clientKey
            ).decode(Page<JobView>.self)
            #expect(second.items.map(\.jobID) == [ids[2], ids[1]])
            let offset = try await client.send(.get, "/v1/jobs?limit=2&offset=4", key: Harness.clientKey).decode(Page<JobView>.self)
            #expect(offset.items.map(\.jobID) == [ids[0]])
            let canceled = try await client.send(.get, "/v1/jobs?status=canceled", key: Harness.clientKey).decode(Page<JobView>.self)
            #expect(canceled.items.map(\.jobID) == [ids[0]])
            let queued = try await client.send(.get, "/v1/jobs?state=QUEUED", key: Harness.clientKey).decode(Page<JobView>.self)
            #expect(queued.items.count == 4)
            #expect(try await client.send(.get, "/v1/jobs?state=SLEEPING", key: Harness.clientKey).status == .badRequest)
        }
    }

    @Test func tenantsNeverSeeOrRunEachOthersJobs() async throws {
        try await Harness.make().test { client in
            let acme = try await client.createTenant("acme", plan: "pro")
            let acmeMaster = try #require(acme.masterKey?.apiKey)
            let acmeMiner = try #require(try await client.createKey(using: acmeMaster, role: "miner").apiKey)
            let jobID = try await submit(client)
            #expect(try await client.send(.get, "/v1/jobs/\(jobID)", key: acmeMaster).errorCode == "JOB_NOT_FOUND")
            #expect(try await client.send(.post, "/v1/jobs/\(jobID)/cancel", key: acmeMaster).errorCode == "JOB_NOT_FOUND")
            let list = try await client.send(.get, "/v1/jobs", key: acmeMaster).decode(Page<JobView>.self)
            #expect(list.items.isEmpty)
            // Same miner id in another tenant is another miner, and gets nothing of test-tenant's.
            _ = try await client.send(.post, "/v1/miners/register?miner_id=gpu-1", key: acmeMiner, json: "{}")
            #expect(try await client.send(.post, "/v1/miners/poll?miner_id=gpu-1", key: acmeMiner, json: #"{"max_wait_seconds": 0}"#).status == .noContent)
            #expect(try await client.send(.post, "/v1/miners/\(jobID)/result?miner_id=gpu-1", key: acmeMiner, json: #"{"result": 1}"#).errorCode == "JOB_NOT_FOUND")
        }
    }

    @Test func resultsOverOneMebibyteAre413() async throws {
        try await Harness.make().test { client in
            let jobID = try await submit(client)
            _ = try await client.send(.post, "/v1/miners/poll", key: Harness.minerKey, json: #"{"max_wait_seconds": 0}"#)
            let big = #"{"result": ""# + String(repeating: "x", count: 1_100_000) + #""}"#
            let reply = try await client.send(.post, "/v1/miners/\(jobID)/result", key: Harness.minerKey, json: big)
            #expect(reply.status == .contentTooLarge)
            #expect(reply.errorCode == "PAYLOAD_TOO_LARGE")
            let fits = #"{"result": ""# + String(repeating: "x", count: 1_000_000) + #""}"#
            #expect(try await client.send(.post, "/v1/miners/\(jobID)/result", key: Harness.minerKey, json: fits).status == .ok)
        }
    }

    @Test func adminStatsForMasters() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            _ = try await client.send(.post, "/v1/miners/register?miner_id=m", key: Harness.minerKey, json: #"{"concurrency": 4}"#)
            let a = try await submit(client)
            let b = try await submit(client)
            _ = try await submit(client)
            _ = try await client.send(.post, "/v1/miners/poll?miner_id=m", key: Harness.minerKey, json: #"{"max_wait_seconds": 0}"#)
            _ = try await client.send(.post, "/v1/miners/poll?miner_id=m", key: Harness.minerKey, json: #"{"max_wait_seconds": 0}"#)
            harness.clock.advance(by: 4)
            _ = try await client.send(.post, "/v1/miners/\(a)/result?miner_id=m", key: Harness.minerKey, json: #"{"result": 1}"#)
            _ = try await client.send(.post, "/v1/miners/\(b)/fail?miner_id=m", key: Harness.minerKey, json: "{}")
            let stats = try await client.send(.get, "/v1/admin/stats", key: Harness.masterKey).decode(StatsView.self)
            #expect(stats.queueDepth == 1)
            #expect(stats.minersOnline == 1)
            #expect(stats.successRate == 0.5)
            #expect(stats.averageSecondsToCompletion == 4)
            #expect(stats.jobsByState["COMPLETED"] == 1)
            #expect(try await client.send(.get, "/v1/admin/stats", key: Harness.clientKey).errorCode == "INSUFFICIENT_SCOPE")
        }
    }

    @Test func badJobRequestsNameTheField() async throws {
        try await Harness.make().test { client in
            for (body, field) in [
                (#"{"ttl_seconds": 5}"#, "payload"), (#"{"payload": {}, "ttl_seconds": 0}"#, "ttl_seconds"),
                (#"{"payload": {}, "ttl_seconds": "soon"}"#, "ttl_seconds"), (#"{"payload": {}, "constraints": [1]}"#, "constraints"),
            ] {
                let reply = try await client.send(.post, "/v1/jobs", key: Harness.clientKey, json: body)
                #expect(reply.status == .badRequest)
                #expect(reply.json["error"]?["details"]?["field"]?.stringValue == field, "\(body)")
            }
            let concurrency = try await client.send(.post, "/v1/miners/register", key: Harness.minerKey, json: #"{"concurrency": 0}"#)
            #expect(concurrency.json["error"]?["details"]?["field"] == "concurrency")
            #expect(try await client.send(.post, "/v1/jobs", key: Harness.minerKey, json: #"{"payload": {}}"#).errorCode == "INSUFFICIENT_SCOPE")
            #expect(try await client.send(.post, "/v1/miners/poll", key: Harness.clientKey).errorCode == "INSUFFICIENT_SCOPE")
        }
    }

    func submit(_ client: some TestClientProtocol) async throws -> String {
        let reply = try await client.send(.post, "/v1/jobs", key: Harness.clientKey, json: #"{"payload": {"type": "inference"}}"#)
        guard reply.status == .created, let id = reply.json["job_id"]?.stringValue else {
            throw HarnessError(description: "submit failed: \(reply.text)")
        }
        return id
    }
}
