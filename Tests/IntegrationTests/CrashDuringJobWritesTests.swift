import AITBCTestSupport
import Foundation
import Testing

/// The real server process killed with SIGKILL in the middle of a burst of job writes (submissions
/// and results from concurrent callers): after a restart on the same storage, every write it had
/// acknowledged is there. On SQLite (WAL, full sync) and on PostgreSQL (commit before the answer).
@Suite(.serialized, .timeLimit(.minutes(3))) struct CrashDuringJobWritesTests {
    static let client = "crash-burst-client-key-000000000001"
    static let miner = "crash-burst-miner-key-0000000000001"
    /// The backend of this pass (scripts/test runs the HTTP and process suites once on each).
    static let backends = [TestBackend.current.rawValue]

    /// What the callers were told: jobs created (201) and results accepted (200, with their marker).
    final class Acknowledged: Sendable {
        let submitted = Shared<[String]>([])
        let completed = Shared<[String: String]>([:])
        let stopped = Shared(false)
    }

    @Test(arguments: backends)
    func everyAcknowledgedJobWriteSurvivesKill9MidBurst(backend: String) async throws {
        var environment = ["CLIENT_API_KEY": Self.client, "MINER_API_KEY": Self.miner]
        var database: PostgresTestServer?
        var path = ""
        if backend == "postgres" {
            let made = try await PostgresTestServer.createDatabase()
            database = made
            environment["AITBC_DATABASE_URL"] = made.url
        } else {
            path = CoordinatorProcess.temporaryDatabase()
        }
        let first = try await CoordinatorProcess.start(databasePath: path, environment: environment)
        let registered = try await first.request(
            .POST, "/v1/miners/register?miner_id=burst-gpu", key: Self.miner, body: #"{"capabilities": {}, "concurrency": 8}"#)
        #expect(registered.status == 200)

        let acknowledged = Acknowledged()
        let inFlightAtKill = await Self.burst(against: first, recording: acknowledged)
        let submitted = acknowledged.submitted.withLock { $0 }
        let completed = acknowledged.completed.withLock { $0 }
        // The kill came mid-burst: writes were acknowledged before it, and callers were still sending.
        #expect(submitted.count >= 100)
        #expect(completed.count >= 10)
        #expect(inFlightAtKill > 0)

        let second = try await CoordinatorProcess.start(databasePath: path, environment: environment, port: first.port)
        defer { second.terminate() }
        var missing: [String] = []
        for id in submitted {
            let job = try await second.request(.GET, "/v1/jobs/\(id)", key: Self.client)
            if job.status != 200 { missing.append(id) }
        }
        #expect(missing.isEmpty, "acknowledged submissions lost: \(missing.count) of \(submitted.count)")
        var unfinished: [String] = []
        for (id, marker) in completed {
            let job = try await second.request(.GET, "/v1/jobs/\(id)", key: Self.client)
            let result = try await second.request(.GET, "/v1/jobs/\(id)/result", key: Self.client)
            let stored = (result.json["result"] as? [String: Any])?["marker"] as? String
            if job.json["state"] as? String != "COMPLETED" || stored != marker { unfinished.append(id) }
        }
        #expect(unfinished.isEmpty, "acknowledged results lost: \(unfinished.count) of \(completed.count)")
        second.terminate()
        try await database?.drop()
    }

    /// Runs 8 submitters and 3 miner loops against `server` until 150 submissions and 20 results are
    /// acknowledged (or 60 s pass), then sends SIGKILL while they are still sending. Returns how many
    /// requests were open at the kill.
    static func burst(against server: CoordinatorProcess, recording acknowledged: Acknowledged) async -> Int {
        let open = Shared(0)
        return await withTaskGroup(of: Int.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    var sequence = 0
                    while !acknowledged.stopped.withLock({ $0 }) {
                        sequence += 1
                        guard
                            let reply = await tracked(open, {
                                try await server.request(
                                    .POST, "/v1/jobs", key: client, body: #"{"payload": {"worker": \#(worker), "n": \#(sequence)}}"#)
                            })
                        else { return 0 }
                        if reply.status == 201, let id = reply.json["job_id"] as? String {
                            acknowledged.submitted.withLock { $0.append(id) }
                        }
                    }
                    return 0
                }
            }
            for _ in 0..<3 {
                group.addTask {
                    while !acknowledged.stopped.withLock({ $0 }) {
                        guard
                            let polled = await tracked(open, {
                                try await server.request(
                                    .POST, "/v1/miners/poll?miner_id=burst-gpu", key: miner, body: #"{"max_wait_seconds": 0}"#)
                            })
                        else { return 0 }
                        guard polled.status == 200, let id = polled.json["job_id"] as? String else { continue }
                        let marker = "done-\(id)"
                        guard
                            let delivered = await tracked(open, {
                                try await server.request(
                                    .POST, "/v1/miners/\(id)/result?miner_id=burst-gpu", key: miner,
                                    body: #"{"result": {"marker": "\#(marker)"}}"#)
                            })
                        else { return 0 }
                        if delivered.status == 200 { acknowledged.completed.withLock { $0[id] = marker } }
                    }
                    return 0
                }
            }
            group.addTask {
                let deadline = ContinuousClock.now + .seconds(60)
                while ContinuousClock.now < deadline,
                    acknowledged.submitted.withLock({ $0.count }) < 150 || acknowledged.completed.withLock({ $0.count }) < 20
                {
                    try? await Task.sleep(for: .milliseconds(5))
                }
                let openAtKill = open.withLock { $0 }
                server.kill9()
                acknowledged.stopped.withLock { $0 = true }
                return openAtKill
            }
            var openAtKill = 0
            for await value in group { openAtKill += value }
            return openAtKill
        }
    }

    /// Sends one request, counted in `open` while it is under way; nil when it failed (the server is gone).
    static func tracked(
        _ open: Shared<Int>, _ body: () async throws -> CoordinatorProcess.Reply
    ) async -> CoordinatorProcess.Reply? {
        open.withLock { $0 += 1 }
        defer { open.withLock { $0 -= 1 } }
        return try? await body()
    }
}
