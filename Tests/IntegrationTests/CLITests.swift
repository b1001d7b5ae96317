import AITBCTestSupport
import Foundation
import Testing

/// The built `aitbc` binary against a live coordinator process: commands, output, exit codes.
@Suite(.serialized) struct CLITests {
    static let master = "cli-master-key-000000001"
    static let client = "cli-client-key-000000001"
    static let miner = "cli-miner-key-0000000001"
    static let `operator` = "cli-operator-key-0000001"

    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
        var json: Any? { try? JSONSerialization.jsonObject(with: Data(stdout.utf8)) }
        var object: [String: Any] { json as? [String: Any] ?? [:] }
    }

    /// Runs any program and collects its output (standard error with it).
    static func run(_ path: String, _ arguments: [String], environment: [String: String]) throws -> Run {
        let outcome = try ChildProcess.run(path, arguments, environment: environment, mergingStandardError: true)
        return Run(status: outcome.status, stdout: outcome.stdout, stderr: "")
    }

    /// Runs `aitbc` with `arguments`, the key in `AITBC_API_KEY`, stdin from /dev/null (not a terminal).
    static func aitbc(_ arguments: [String], key: String?, url: String) throws -> Run {
        let binary = URL(fileURLWithPath: try CoordinatorProcess.binaryPath()).deletingLastPathComponent()
            .appendingPathComponent("aitbc")
        var environment = ["PATH": "/usr/bin:/bin", "AITBC_URL": url]
        if let key { environment["AITBC_API_KEY"] = key }
        let outcome = try ChildProcess.run(binary.path, arguments, environment: environment)
        return Run(status: outcome.status, stdout: outcome.stdout, stderr: outcome.stderr)
    }

    func withServer(_ body: (String) async throws -> Void) async throws {
        let server = try await CoordinatorProcess.start(
            databasePath: CoordinatorProcess.temporaryDatabase(),
            environment: [
                "MASTER_API_KEY": Self.master, "CLIENT_API_KEY": Self.client, "MINER_API_KEY": Self.miner,
                "OPERATOR_API_KEY": Self.operator,
            ])
        defer { server.terminate() }
        try await body(server.baseURL)
    }

    @Test func apiKeyCommands() async throws {
        try await withServer { url in
            let me = try Self.aitbc(["me", "--json"], key: Self.master, url: url)
            #expect(me.status == 0)
            #expect(me.object["role"] as? String == "master")

            let created = try Self.aitbc(["api-keys", "create", "--name", "ci runner", "--role", "client", "--json"], key: Self.master, url: url)
            #expect(created.status == 0)
            let keyID = try #require(created.object["key_id"] as? String)
            let secret = try #require(created.object["api_key"] as? String)
            #expect(created.stderr.contains("shown once"))

            let human = try Self.aitbc(["api-keys", "create", "--name", "other", "--role", "miner"], key: Self.master, url: url)
            #expect(human.stdout.contains("api_key  aitbc_miner_"))
            #expect(human.stderr.contains("warning"))

            let list = try Self.aitbc(["api-keys", "list"], key: Self.master, url: url)
            #expect(list.status == 0)
            #expect(list.stdout.hasPrefix("KEY_ID"))
            #expect(list.stdout.contains(keyID))
            #expect(!list.stdout.contains(secret))
            let listJSON = try Self.aitbc(["api-keys", "list", "--json"], key: Self.master, url: url)
            #expect((listJSON.json as? [Any])?.count == 6)

            let get = try Self.aitbc(["api-keys", "get", keyID], key: Self.master, url: url)
            #expect(get.stdout.contains("ci runner"))
            let usage = try Self.aitbc(["api-keys", "usage", keyID, "--json"], key: Self.master, url: url)
            #expect(usage.object["key_id"] as? String == keyID)

            let rotated = try Self.aitbc(["api-keys", "regenerate", keyID, "--grace", "1h", "--json"], key: Self.master, url: url)
            #expect(rotated.status == 0)
            let newSecret = try #require(rotated.object["api_key"] as? String)
            #expect(try Self.aitbc(["me"], key: secret, url: url).status == 0)
            #expect(try Self.aitbc(["me"], key: newSecret, url: url).status == 0)

            // Not a terminal and no --yes: refused, nothing revoked.
            let refused = try Self.aitbc(["api-keys", "revoke", keyID], key: Self.master, url: url)
            #expect(refused.status == 64)
            #expect(refused.stderr.contains("--yes"))
            #expect(try Self.aitbc(["me"], key: newSecret, url: url).status == 0)

            let revoked = try Self.aitbc(["api-keys", "revoke", keyID, "--yes"], key: Self.master, url: url)
            #expect(revoked.status == 0)
            let after = try Self.aitbc(["me"], key: newSecret, url: url)
            #expect(after.status == 3)
            #expect(after.stderr.hasPrefix("error: API_KEY_REVOKED: "))

            let missing = try Self.aitbc(["api-keys", "get", "key_nope"], key: Self.master, url: url)
            #expect(missing.status == 5)
            #expect(missing.stderr.contains("KEY_NOT_FOUND"))
            let forbidden = try Self.aitbc(["api-keys", "list"], key: Self.client, url: url)
            #expect(forbidden.status == 3)
            let invalid = try Self.aitbc(["api-keys", "create", "--name", "x", "--role", "wizard"], key: Self.master, url: url)
            #expect(invalid.status == 6)
            let badGrace = try Self.aitbc(["api-keys", "regenerate", "key_x", "--grace", "soon"], key: Self.master, url: url)
            #expect(badGrace.status == 64)
        }
    }

    @Test func missingKeyAndUnreachableServer() throws {
        let missing = try Self.aitbc(["api-keys", "list"], key: nil, url: "http://127.0.0.1:9")
        #expect(missing.status == 3)
        #expect(missing.stderr.contains("AITBC_API_KEY"))
        let down = try Self.aitbc(["me"], key: "k", url: "http://127.0.0.1:9")
        #expect(down.status == 7)
        #expect(down.stderr.hasPrefix("error: TRANSPORT_ERROR: "))
        let usage = try Self.aitbc(["jobs", "submit"], key: "k", url: "http://127.0.0.1:9")
        #expect(usage.status == 64)
    }

    @Test func jobMinerAndTenantCommands() async throws {
        try await withServer { url in
            let submitted = try Self.aitbc(
                ["jobs", "submit", "--payload", #"{"type": "inference", "prompt": "hi"}"#, "--ttl", "600", "--json"],
                key: Self.client, url: url)
            #expect(submitted.status == 0)
            let jobID = try #require(submitted.object["job_id"] as? String)
            #expect(try Self.aitbc(["jobs", "get", jobID], key: Self.client, url: url).stdout.contains("QUEUED"))
            #expect(try Self.aitbc(["jobs", "list"], key: Self.client, url: url).stdout.contains(jobID))
            let early = try Self.aitbc(["jobs", "result", jobID], key: Self.client, url: url)
            #expect(early.status == 6)
            #expect(early.stderr.contains("JOB_NOT_READY"))

            let registered = try Self.aitbc(
                ["miners", "register", "--miner-id", "gpu-1", "--capabilities", #"{"gpu": {"model": "RTX 4090"}}"#, "--json"],
                key: Self.miner, url: url)
            #expect(registered.object["miner_id"] as? String == "gpu-1")
            // A miner that said it was going away comes back with the CLI's heartbeat.
            let away = try await CoordinatorProcess.send(
                .POST, url + "/v1/miners/heartbeat?miner_id=gpu-1", key: Self.miner, body: #"{"status": "OFFLINE"}"#)
            #expect(away.json["status"] as? String == "OFFLINE")
            let beat = try Self.aitbc(["miners", "heartbeat", "--miner-id", "gpu-1", "--inflight", "0", "--json"], key: Self.miner, url: url)
            #expect(beat.status == 0)
            #expect(beat.object["miner_id"] as? String == "gpu-1")
            #expect(beat.object["status"] as? String == "ONLINE")
            let polled = try Self.aitbc(["miners", "poll", "--miner-id", "gpu-1", "--wait", "2", "--json"], key: Self.miner, url: url)
            #expect(polled.object["job_id"] as? String == jobID)

            // Complete over HTTP, then wait: piped, so no progress lines.
            let server = try await CoordinatorProcess.httpPost(url: url + "/v1/miners/\(jobID)/result?miner_id=gpu-1", key: Self.miner, body: #"{"result": {"text": "hello"}}"#)
            #expect(server == 200)
            let waited = try Self.aitbc(["jobs", "wait", jobID, "--interval", "0.1"], key: Self.client, url: url)
            #expect(waited.status == 0)
            #expect(waited.stdout.contains("COMPLETED"))
            #expect(waited.stderr.isEmpty)
            // On a terminal (a pseudo-terminal from script(1)), wait shows the state with the elapsed time.
            if FileManager.default.isExecutableFile(atPath: "/usr/bin/script") {
                let aitbc = URL(fileURLWithPath: try CoordinatorProcess.binaryPath()).deletingLastPathComponent()
                    .appendingPathComponent("aitbc").path
                let onTerminal = try Self.run(
                    "/usr/bin/script", ["-qec", "\(aitbc) jobs wait \(jobID) --interval 0.1", "/dev/null"],
                    environment: ["AITBC_URL": url, "AITBC_API_KEY": Self.client, "PATH": "/usr/bin:/bin"])
                #expect(onTerminal.status == 0)
                #expect(onTerminal.stdout.contains("s] \(jobID) COMPLETED on gpu-1"))
                #expect(onTerminal.stdout.contains("["))
            }
            let result = try Self.aitbc(["jobs", "result", jobID], key: Self.client, url: url)
            #expect((result.object["result"] as? [String: Any])?["text"] as? String == "hello")

            let file = FileManager.default.temporaryDirectory.appendingPathComponent("job-\(UUID().uuidString).json")
            try Data(#"{"type": "inference", "prompt": "from a file"}"#.utf8).write(to: file)
            let fromFile = try Self.aitbc(
                ["jobs", "submit", "--payload-file", file.path, "--constraints", #"{"min_vram_gb": 8}"#, "--idempotency-key", "f1", "--json"],
                key: Self.client, url: url)
            #expect(fromFile.status == 0)
            let fileJob = try #require(fromFile.object["job_id"] as? String)
            let replay = try Self.aitbc(
                ["jobs", "submit", "--payload-file", file.path, "--constraints", #"{"min_vram_gb": 8}"#, "--idempotency-key", "f1", "--json"],
                key: Self.client, url: url)
            #expect(replay.object["job_id"] as? String == fileJob)
            let badJSON = try Self.aitbc(["jobs", "submit", "--payload", "{nope"], key: Self.client, url: url)
            #expect(badJSON.status == 64)
            _ = try Self.aitbc(["jobs", "cancel", fileJob], key: Self.client, url: url)

            let other = try Self.aitbc(["jobs", "submit", "--payload", "{}", "--json"], key: Self.client, url: url)
            let otherID = try #require(other.object["job_id"] as? String)
            #expect(try Self.aitbc(["jobs", "cancel", otherID], key: Self.client, url: url).stdout.contains("CANCELED"))
            let canceledWait = try Self.aitbc(["jobs", "wait", otherID], key: Self.client, url: url)
            #expect(canceledWait.status == 6)

            let tenant = try Self.aitbc(["tenants", "create", "--id", "acme", "--name", "Acme", "--plan", "free"], key: Self.operator, url: url)
            #expect(tenant.status == 0)
            #expect(tenant.stdout.contains("api_key  aitbc_master_"))
            #expect(try Self.aitbc(["tenants", "list"], key: Self.operator, url: url).stdout.contains("acme"))
            let upgraded = try Self.aitbc(["tenants", "set-plan", "acme", "pro", "--json"], key: Self.operator, url: url)
            #expect(upgraded.object["rate_limit_per_minute"] as? Int == 600)
            let scoped = try Self.aitbc(["api-keys", "list", "--tenant", "acme", "--json"], key: Self.operator, url: url)
            let acmeKeys = try #require(scoped.json as? [[String: Any]], "\(scoped.stdout)")
            // Acme's first master key, and only it.
            #expect(acmeKeys.count == 1)
            #expect(acmeKeys.first?["role"] as? String == "master")
            #expect(acmeKeys.allSatisfy { $0["tenant_id"] as? String == "acme" })
        }
    }

    @Test func rateLimitedExitCode() async throws {
        let server = try await CoordinatorProcess.start(
            databasePath: CoordinatorProcess.temporaryDatabase(),
            environment: ["MASTER_API_KEY": Self.master, "CLIENT_API_KEY": Self.client, "AITBC_DEV_PLAN": "free"])
        defer { server.terminate() }
        // A key of its own allowed one request a minute: once used, it stays refused however slowly
        // the CLI starts on a loaded machine.
        let created = try await server.request(
            .POST, "/v1/api-keys", key: Self.master, body: #"{"name": "slow", "role": "client", "rate_limit_per_minute": 1}"#)
        #expect(created.status == 201)
        let slow = try #require(created.json["api_key"] as? String)
        #expect(try await server.request(.GET, "/v1/jobs", key: slow).status == 200)
        let limited = try Self.aitbc(["jobs", "list", "--retries", "0"], key: slow, url: server.baseURL)
        #expect(limited.status == 4)
        #expect(limited.stderr.hasPrefix("error: RATE_LIMIT_EXCEEDED: "))
        // With retries, the CLI waits out Retry-After (the free budget refills one request a second).
        var refused = false
        for _ in 0..<200 where !refused {
            refused = try await server.request(.GET, "/v1/jobs", key: Self.client).status == 429
        }
        #expect(refused)
        let patient = try Self.aitbc(["jobs", "list", "--retries", "2"], key: Self.client, url: server.baseURL)
        #expect(patient.status == 0)
    }
}
