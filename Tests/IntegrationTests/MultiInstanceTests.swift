import AITBCDomain
import AITBCTestSupport
import Foundation
import NIOHTTP1
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Three coordinator processes on one PostgreSQL database behave as one server: revocations reach
/// every instance, rate limits are shared exactly, every job is assigned and completed once, and an
/// outage of the database is survived without losing anything acknowledged.
@Suite(.serialized, .enabled(if: PostgresTestServer.isConfigured, PostgresTestServer.skipComment), .timeLimit(.minutes(4)))
struct MultiInstanceTests {
    static let operatorKey = "multi-operator-key-0000000000001"
    static let clientKey = "multi-client-key-00000000000001"
    static let minerKey = "multi-miner-key-000000000000001"

    static func environment(_ url: String) -> [String: String] {
        [
            "AITBC_DATABASE_URL": url, "OPERATOR_API_KEY": operatorKey, "CLIENT_API_KEY": clientKey,
            "MINER_API_KEY": minerKey, "AITBC_PLANS": "free=60,pro=600,enterprise=100000000",
            "AITBC_AUTH_FAILURES_PER_MINUTE": "1000000", "AITBC_MINER_HEARTBEAT_TIMEOUT_SECONDS": "600",
        ]
    }

    /// Starts `count` instances on `url`, one after the other (the first applies the migrations).
    static func instances(_ count: Int, url: String, settings: [String: String] = [:]) async throws -> [CoordinatorProcess] {
        var started: [CoordinatorProcess] = []
        for _ in 0..<count {
            let environment = environment(url).merging(settings) { $1 }
            started.append(try await CoordinatorProcess.start(databasePath: "", environment: environment))
        }
        return started
    }

    static func createKey(on server: CoordinatorProcess, role: String, tenant: String? = nil) async throws -> (id: String, secret: String) {
        let reply = try await server.request(
            .POST, "/v1/api-keys", key: operatorKey, body: #"{"name": "k", "role": "\#(role)"}"#,
            headers: tenant.map { ["X-Tenant-ID": $0] } ?? [:])
        guard reply.status == 201, let id = reply.json["key_id"] as? String, let secret = reply.json["api_key"] as? String
        else { throw ProcessError(description: "create key: \(reply.status) \(reply.body)") }
        return (id, secret)
    }

    @Test func aKeyRevokedOnOneInstanceIsRefusedByTheOthersWithinASecond() async throws {
        let database = try await PostgresTestServer.createDatabase()
        let servers = try await Self.instances(3, url: database.url)
        defer { for server in servers { server.terminate() } }
        for trial in 0..<5 {
            let key = try await Self.createKey(on: servers[0], role: "client", tenant: "test-tenant")
            for server in servers { #expect(try await server.request(.GET, "/v1/me", key: key.secret).status == 200) }
            let revoked = try await servers[trial % 3].request(.DELETE, "/v1/api-keys/\(key.id)", key: Self.operatorKey)
            #expect(revoked.status == 200)
            let answered = ContinuousClock.now
            #expect(try await servers[trial % 3].request(.GET, "/v1/me", key: key.secret).status == 401)
            // "Within a second": no request that reaches an instance a second after the revoke was
            // answered is admitted. So what counts is when the last admitted request was sent, not
            // when a refusal comes back (on a loaded machine the answer itself can take a while).
            for server in servers {
                var lastAdmitted: Duration?
                var refused = false
                while !refused, ContinuousClock.now - answered < .seconds(5) {
                    let sent = ContinuousClock.now - answered
                    switch try await server.request(.GET, "/v1/me", key: key.secret).status {
                    case 401: refused = true
                    case 200: lastAdmitted = sent
                    case let status: Issue.record("instance \(server.port) answered \(status)")
                    }
                    if !refused { try await Task.sleep(for: .milliseconds(5)) }
                }
                #expect(refused, "instance \(server.port) still admits the revoked key")
                if let lastAdmitted {
                    #expect(lastAdmitted < .seconds(1), "instance \(server.port) admitted a request sent \(lastAdmitted) after the revoke")
                }
            }
        }
        try await database.drop()
    }

    @Test func threeTimesTheLimitSpreadOverTheInstancesAdmitsExactlyTheLimit() async throws {
        let database = try await PostgresTestServer.createDatabase()
        let servers = try await Self.instances(3, url: database.url)
        defer { for server in servers { server.terminate() } }
        // 12 a minute: one every 5 s, so the burst below ends long before the budget refills.
        let limit = 12
        let tenant = try await servers[0].request(
            .POST, "/v1/tenants", key: Self.operatorKey, body: #"{"tenant_id": "metered", "name": "Metered", "plan": "free"}"#)
        #expect(tenant.status == 201)
        let patched = try await servers[1].request(
            .PATCH, "/v1/tenants/metered", key: Self.operatorKey, body: #"{"rate_limit_per_minute": \#(limit)}"#)
        #expect(patched.status == 200)
        let key = try await Self.createKey(on: servers[2], role: "client", tenant: "metered")
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<(3 * limit) {
                group.addTask { try await servers[index % 3].request(.GET, "/v1/jobs?limit=1", key: key.secret).status }
            }
            var all: [Int] = []
            for try await status in group { all.append(status) }
            return all
        }
        #expect(statuses.filter { $0 == 200 }.count == limit)
        #expect(statuses.filter { $0 == 429 }.count == 2 * limit)
        // Refused requests cost nothing: the budget is still empty, not overdrawn.
        let after = try await servers[0].request(.GET, "/v1/me", key: key.secret)
        #expect(after.status == 429)
        try await database.drop()
    }

    @Test func guessesAreCountedOnceWhicheverInstanceTheyReach() async throws {
        let database = try await PostgresTestServer.createDatabase()
        // No tarpit and cheap bcrypt: the attempts must all land well inside the budgets' refill
        // (one every 10 s and every 12 s) on a slow machine.
        let servers = try await Self.instances(
            3, url: database.url,
            settings: ["AITBC_AUTH_FAILURES_PER_MINUTE": "6", "AITBC_AUTH_TARPIT_MS": "0", "AITBC_BCRYPT_COST": "4"])
        defer { for server in servers { server.terminate() } }
        for server in servers { #expect(try await server.request(.GET, "/v1/me", key: Self.clientKey).status == 200) }
        // Malformed keys never reach storage, so each instance counts them alone: four each, under
        // the budget of six, and none of them charged to the shared budget below.
        for attempt in 0..<12 {
            #expect(try await servers[attempt % 3].request(.GET, "/v1/me", key: "malformed-\(attempt)").status == 401)
        }
        // Guesses (well-formed keys that do not exist) from one address, round robin: six failures a
        // minute in all, not six per instance.
        var keyStatuses: [Int] = []
        for attempt in 0..<12 {
            let guess = APIKeyFormat.generate(role: .client, using: SystemSecretSource())
            keyStatuses.append(try await servers[attempt % 3].request(.GET, "/v1/me", key: guess).status)
        }
        #expect(keyStatuses == Array(repeating: 401, count: 6) + Array(repeating: 429, count: 6), "\(keyStatuses)")
        // A key already known from the same address still works everywhere.
        for server in servers { #expect(try await server.request(.GET, "/v1/me", key: Self.clientKey).status == 200) }

        // Dashboard sign-in: five attempts a minute per email, whichever instance gets them.
        let token = String(repeating: "t", count: 32)
        var signInStatuses: [Int] = []
        for attempt in 0..<8 {
            signInStatuses.append(
                try await servers[attempt % 3].form(
                    "/dashboard/sign-in", ["email": "victim@example.com", "password": "wrong password \(attempt)", "csrf_token": token],
                    cookie: "aitbc_csrf=\(token)"
                ).status)
        }
        #expect(signInStatuses == Array(repeating: 401, count: 5) + Array(repeating: 429, count: 3), "\(signInStatuses)")
        try await database.drop()
    }

    @Test func aThousandJobsWithMinersOnEveryInstanceAreEachAssignedAndCompletedOnce() async throws {
        let database = try await PostgresTestServer.createDatabase()
        let servers = try await Self.instances(3, url: database.url)
        defer { for server in servers { server.terminate() } }
        let total = 1000
        let minersPerInstance = 4
        for (index, server) in servers.enumerated() {
            for miner in 0..<minersPerInstance {
                let reply = try await server.request(
                    .POST, "/v1/miners/register?miner_id=i\(index)-m\(miner)", key: Self.minerKey, body: #"{"concurrency": 1}"#)
                #expect(reply.status == 200)
            }
        }
        let completedBy = Shared<[String: String]>([:])
        let duplicates = Shared<[String]>([])
        let submitted = Shared<Set<String>>([])
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, server) in servers.enumerated() {
                for miner in 0..<minersPerInstance {
                    let minerID = "i\(index)-m\(miner)"
                    group.addTask {
                        while completedBy.withLock({ $0.count }) < total {
                            let polled = try await server.request(
                                .POST, "/v1/miners/poll?miner_id=\(minerID)", key: Self.minerKey, body: #"{"max_wait_seconds": 1}"#)
                            // 204: no job within the second; anything else but a job is a failure, not a retry.
                            if polled.status == 204 { continue }
                            guard polled.status == 200, let jobID = polled.json["job_id"] as? String else {
                                throw ProcessError(description: "poll on \(minerID): \(polled.status) \(polled.body)")
                            }
                            let done = try await server.request(
                                .POST, "/v1/miners/\(jobID)/result?miner_id=\(minerID)", key: Self.minerKey,
                                body: #"{"result": {"by": "\#(minerID)"}, "metrics": {}}"#)
                            guard done.status == 200 else {
                                throw ProcessError(description: "result for \(jobID): \(done.status) \(done.body)")
                            }
                            completedBy.withLock { map in
                                if map[jobID] != nil { duplicates.withLock { $0.append(jobID) } }
                                map[jobID] = minerID
                            }
                        }
                    }
                }
            }
            group.addTask {
                try await withThrowingTaskGroup(of: Void.self) { clients in
                    for part in 0..<4 {
                        clients.addTask {
                            for index in 0..<(total / 4) {
                                let server = servers[(part + index) % 3]
                                let reply = try await server.request(
                                    .POST, "/v1/jobs", key: Self.clientKey, body: #"{"payload": {"n": \#(part * 1000 + index)}}"#)
                                guard reply.status == 201, let id = reply.json["job_id"] as? String else {
                                    throw ProcessError(description: "submit: \(reply.status) \(reply.body)")
                                }
                                submitted.withLock { _ = $0.insert(id) }
                            }
                        }
                    }
                    try await clients.waitForAll()
                }
            }
            try await group.waitForAll()
        }
        let done = completedBy.withLock { $0 }
        #expect(duplicates.withLock { $0 }.isEmpty)
        #expect(done.count == total)
        #expect(Set(done.keys) == submitted.withLock { $0 })
        // Every instance's miners took part.
        for index in 0..<3 { #expect(done.values.contains { $0.hasPrefix("i\(index)-") }) }
        let stats = try await servers[1].request(.GET, "/v1/admin/stats", key: Self.operatorKey, headers: ["X-Tenant-ID": "test-tenant"])
        #expect(stats.status == 200)
        #expect((stats.json["jobs_by_state"] as? [String: Any])?["COMPLETED"] as? Int == total)
        try await database.drop()
    }

    @Test func aMinerLongPollingOnOneInstanceIsWokenByAJobSubmittedOnAnother() async throws {
        let database = try await PostgresTestServer.createDatabase()
        let servers = try await Self.instances(2, url: database.url)
        defer { for server in servers { server.terminate() } }
        let registered = try await servers[1].request(
            .POST, "/v1/miners/register?miner_id=gpu-b", key: Self.minerKey, body: #"{"concurrency": 1}"#)
        #expect(registered.status == 200)
        _ = try await servers[0].request(.GET, "/v1/jobs", key: Self.clientKey)
        let received = Shared<ContinuousClock.Instant?>(nil)
        try await withThrowingTaskGroup(of: CoordinatorProcess.Reply.self) { group in
            group.addTask {
                let reply = try await servers[1].request(
                    .POST, "/v1/miners/poll?miner_id=gpu-b", key: Self.minerKey, body: #"{"max_wait_seconds": 10}"#)
                received.withLock { $0 = .now }
                return reply
            }
            try await Task.sleep(for: .milliseconds(500))
            let submittedAt = ContinuousClock.now
            let submitted = try await servers[0].request(.POST, "/v1/jobs", key: Self.clientKey, body: #"{"payload": {"p": 1}}"#)
            #expect(submitted.status == 201)
            let polled = try #require(try await group.next())
            #expect(polled.status == 200)
            #expect(polled.json["job_id"] as? String == submitted.json["job_id"] as? String)
            let latency = try #require(received.withLock { $0 }) - submittedAt
            #expect(latency < .seconds(1), "the hand-off across instances took \(latency)")
        }
        try await database.drop()
    }

    @Test func aDatabaseOutageMeansQuick503sThenRecoveryWithNothingAcknowledgedLost() async throws {
        let postgres = try await DedicatedPostgres.start()
        defer { postgres.destroy() }
        let servers = try await Self.instances(3, url: postgres.url)
        defer { for server in servers { server.terminate() } }
        let acknowledged = Shared<[String]>([])
        let outageStatuses = Shared<[Int]>([])
        let slowest = Shared<Duration>(.zero)
        let phase = Shared(0)  // 0 before, 1 during, 2 after the outage
        let stop = Shared(false)
        let load = Task {
            var index = 0
            while !stop.withLock({ $0 }) {
                let server = servers[index % 3]
                index += 1
                let started = ContinuousClock.now
                let startedIn = phase.withLock { $0 }
                let reply = try? await server.request(.POST, "/v1/jobs", key: Self.clientKey, body: #"{"payload": {"n": \#(index)}}"#)
                let took = ContinuousClock.now - started
                let status = reply?.status ?? 0
                if status == 201, let id = reply?.json["job_id"] as? String { acknowledged.withLock { $0.append(id) } }
                // A request the outage caught in flight, or that ended during it, answers for the
                // outage, however long it took (on a loaded machine one may outlast the outage's window).
                if startedIn == 1 || phase.withLock({ $0 }) == 1 || (startedIn == 0 && phase.withLock({ $0 }) == 2) {
                    outageStatuses.withLock { $0.append(status) }
                    slowest.withLock { $0 = max($0, took) }
                }
                try? await Task.sleep(for: .milliseconds(10))
            }
        }
        try await Task.sleep(for: .seconds(1))
        let before = acknowledged.withLock { $0.count }
        #expect(before > 0)
        try postgres.stop()
        phase.withLock { $0 = 1 }
        try await Task.sleep(for: .seconds(4))
        // A well-formed key nobody has seen is not let in while the database is away: the server
        // cannot tell, and says so.
        let unknown = try await servers[0].request(.GET, "/v1/me", key: APIKeyFormat.generate(role: .client, using: SystemSecretSource()))
        #expect(unknown.status == 503)
        #expect((unknown.json["error"] as? [String: Any])?["code"] as? String == "STORAGE_UNAVAILABLE", "\(unknown.body)")
        #expect(servers.allSatisfy { $0.process.isRunning })
        phase.withLock { $0 = 2 }
        try postgres.start()
        let restarted = ContinuousClock.now
        var recovered: Duration?
        while ContinuousClock.now - restarted < .seconds(20) {
            let status = try await servers[1].request(.GET, "/v1/jobs?limit=1", key: Self.clientKey).status
            if status == 200 {
                recovered = ContinuousClock.now - restarted
                break
            }
            // Still away: 503, nothing else.
            #expect(status == 503)
            if status != 503 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        try await Task.sleep(for: .seconds(1))
        stop.withLock { $0 = true }
        await load.value

        let statuses = outageStatuses.withLock { $0 }
        #expect(!statuses.isEmpty)
        #expect(statuses.allSatisfy { $0 == 503 || $0 == 201 }, "during the outage: \(Set(statuses))")
        #expect(statuses.contains(503))
        #expect(slowest.withLock { $0 } < .seconds(5), "slowest answer during the outage: \(slowest.withLock { $0 })")
        let recovery = try #require(recovered, "no recovery within 20 s of the database's return")
        #expect(recovery < .seconds(10))
        #expect(servers.allSatisfy { $0.process.isRunning })
        let ids = acknowledged.withLock { $0 }
        #expect(ids.count > before)
        for (index, id) in ids.enumerated() {
            let reply = try await servers[index % 3].request(.GET, "/v1/jobs/\(id)", key: Self.clientKey)
            #expect(reply.status == 200, "acknowledged job \(id) is missing after the outage")
        }
    }
}

extension MultiInstanceTests {
    /// A longer outage: postgres-nio's pool backs off between attempts, yet the instance is back
    /// within seconds of the database (measured here: about 4 s after 50 s away).
    @Test func aLongOutageIsOverWithinSecondsOfTheDatabasesReturn() async throws {
        let postgres = try await DedicatedPostgres.start()
        defer { postgres.destroy() }
        let server = try await CoordinatorProcess.start(databasePath: "", environment: Self.environment(postgres.url))
        defer { server.terminate() }
        #expect(try await server.request(.GET, "/v1/jobs?limit=1", key: Self.clientKey).status == 200)
        try postgres.stop()
        let outageEnds = ContinuousClock.now + .seconds(50)
        while ContinuousClock.now < outageEnds {
            let status = try await server.request(.GET, "/v1/jobs?limit=1", key: Self.clientKey).status
            #expect(status == 503)
            try await Task.sleep(for: .milliseconds(500))
        }
        try postgres.start()
        let restarted = ContinuousClock.now
        var recovered: Duration?
        while ContinuousClock.now - restarted < .seconds(30) {
            let status = try await server.request(.GET, "/v1/jobs?limit=1", key: Self.clientKey).status
            if status == 200 {
                recovered = ContinuousClock.now - restarted
                break
            }
            #expect(status == 503)
            if status != 503 { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        let recovery = try #require(recovered, "not recovered within 30 s")
        #expect(recovery < .seconds(10), "recovered \(recovery) after the database came back")
    }
}

/// A PostgreSQL server of the test's own, which it may stop and start (the shared one serves other tests).
final class DedicatedPostgres: Sendable {
    let directory: String
    let port: Int
    let binaries: String
    var url: String { "postgres://postgres@127.0.0.1:\(port)/postgres" }

    private init(directory: String, port: Int, binaries: String) {
        self.directory = directory
        self.port = port
        self.binaries = binaries
    }

    static func start() async throws -> DedicatedPostgres {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        guard let version = versions.sorted(by: { (Int($0) ?? 0) < (Int($1) ?? 0) }).last else {
            throw ProcessError(description: "PostgreSQL is not installed under /usr/lib/postgresql")
        }
        let binaries = "/usr/lib/postgresql/\(version)/bin"
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("aitbc-pg-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let server = DedicatedPostgres(directory: directory, port: try CoordinatorProcess.freePort(), binaries: binaries)
        if getuid() == 0 { try server.run("/bin/chown", ["-R", "postgres:postgres", directory], asPostgres: false) }
        try server.run(binaries + "/initdb", ["-D", directory + "/data", "-U", "postgres", "--auth=trust", "-E", "UTF8"])
        try server.start()
        return server
    }

    func start() throws {
        try run(
            binaries + "/pg_ctl",
            ["-D", directory + "/data", "-w", "-t", "30", "-l", directory + "/server.log", "-o",
             "-p \(port) -k \(directory) -c listen_addresses=127.0.0.1 -c fsync=off", "start"])
    }

    /// Stops at once: connections are cut, committed transactions are kept.
    func stop() throws {
        try run(binaries + "/pg_ctl", ["-D", directory + "/data", "-w", "-m", "fast", "stop"])
    }

    func destroy() {
        try? run(binaries + "/pg_ctl", ["-D", directory + "/data", "-w", "-m", "immediate", "stop"])
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Runs a command to its end through `system()`: Foundation's `Process` can wait forever for a
    /// command that leaves a daemon behind (pg_ctl start), which inherits what it watches.
    private func run(_ executable: String, _ arguments: [String], asPostgres: Bool = true) throws {
        var words = [executable] + arguments
        if asPostgres && getuid() == 0 { words = ["/usr/sbin/runuser", "-u", "postgres", "--"] + words }
        let command = words.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        let status = system(command + " </dev/null >/dev/null 2>&1")
        guard status == 0 else {
            throw ProcessError(description: "\(executable) \(arguments.joined(separator: " ")) exited with \(status)")
        }
    }
}
