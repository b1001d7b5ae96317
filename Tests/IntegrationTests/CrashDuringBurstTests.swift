import AITBCTestSupport
import Foundation
import Testing

/// The real server process killed with SIGKILL in the middle of a burst of concurrent submissions,
/// where writes share commits (group commit on SQLite): after a restart on the same storage, every
/// job whose 201 was received is there. A caller answered before the commit holding its write
/// returned would show up here as a lost job.
@Suite(.serialized, .timeLimit(.minutes(3))) struct CrashDuringBurstTests {
    static let client = "crash-group-client-key-000000000001"
    static let operatorKey = "crash-group-operator-key-0000000001"
    /// The backend of this pass (scripts/test runs the HTTP and process suites once on each).
    static let backends = [TestBackend.current.rawValue]
    /// Concurrent connections sending submissions.
    static let connections = 32
    /// The most submissions the burst sends.
    static let attempts = 600
    /// Acknowledged submissions after which the server is killed, with the other connections still sending.
    static let killAfter = 120

    /// What the burst saw: the jobs acknowledged (201), requests open, and the requests open at the kill.
    final class Burst: Sendable {
        let acknowledged = Shared<[String]>([])
        let sent = Shared(0)
        let open = Shared(0)
        let openAtKill = Shared<Int?>(nil)
        /// The server's commits just before the kill, once ``killAfter`` submissions were acknowledged.
        let commitsAtKill = Shared<Int?>(nil)
    }

    /// The commits the server reports in `/metrics` (`aitbc_storage_commits`).
    static func commits(of server: CoordinatorProcess) async throws -> Int {
        let metrics = try await server.request(.GET, "/metrics", key: operatorKey)
        let line = metrics.body.split(separator: "\n").first { $0.hasPrefix("aitbc_storage_commits ") }
        let value = try #require(line?.split(separator: " ").last.flatMap { Double($0) })
        return Int(value)
    }

    @Test(arguments: backends)
    func everyAcknowledgedSubmissionSurvivesKill9MidBurst(backend: String) async throws {
        var environment = ["CLIENT_API_KEY": Self.client, "OPERATOR_API_KEY": Self.operatorKey]
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
        let commitsBefore = try await Self.commits(of: first)
        let burst = Burst()
        await Self.burst(against: first, recording: burst)
        let acknowledged = burst.acknowledged.withLock { $0 }
        // The kill came mid-burst: writes were acknowledged before it and other callers were still waiting.
        #expect(acknowledged.count >= Self.killAfter)
        #expect(acknowledged.count < Self.attempts)
        #expect((burst.openAtKill.withLock { $0 } ?? 0) > 0)
        if backend == "sqlite" {
            // Concurrent submissions shared commits: fewer transactions than acknowledged jobs.
            let shared = try #require(burst.commitsAtKill.withLock { $0 }) - commitsBefore
            #expect(shared < Self.killAfter, "\(Self.killAfter) submissions took \(shared) commits")
        }

        let second = try await CoordinatorProcess.start(databasePath: path, environment: environment, port: first.port)
        defer { second.terminate() }
        var missing: [String] = []
        for id in acknowledged {
            let job = try await second.request(.GET, "/v1/jobs/\(id)", key: Self.client)
            if job.status != 200 || job.json["job_id"] as? String != id { missing.append(id) }
        }
        #expect(missing.isEmpty, "acknowledged submissions lost: \(missing.count) of \(acknowledged.count)")
        second.terminate()
        try await database?.drop()
    }

    /// Sends up to ``attempts`` submissions over ``connections`` concurrent callers; the caller whose
    /// 201 is the ``killAfter``-th sends SIGKILL at once, while the others' requests are under way.
    static func burst(against server: CoordinatorProcess, recording burst: Burst) async {
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<connections {
                group.addTask {
                    while burst.openAtKill.withLock({ $0 }) == nil {
                        let sequence = burst.sent.withLock { sent -> Int? in
                            guard sent < attempts else { return nil }
                            sent += 1
                            return sent
                        }
                        guard let sequence else { return }
                        burst.open.withLock { $0 += 1 }
                        let reply = try? await server.request(
                            .POST, "/v1/jobs", key: client, body: #"{"payload": {"worker": \#(worker), "n": \#(sequence)}}"#)
                        burst.open.withLock { $0 -= 1 }
                        guard let reply else { return }
                        guard reply.status == 201, let id = reply.json["job_id"] as? String else { continue }
                        let count = burst.acknowledged.withLock { acknowledged -> Int in
                            acknowledged.append(id)
                            return acknowledged.count
                        }
                        if count == killAfter {
                            // Read after killAfter acknowledgements: these commits hold at least those writes.
                            let commits = try? await commits(of: server)
                            burst.commitsAtKill.withLock { $0 = commits }
                            burst.openAtKill.withLock { $0 = burst.open.withLock { $0 } }
                            server.kill9()
                        }
                    }
                }
            }
        }
    }
}
