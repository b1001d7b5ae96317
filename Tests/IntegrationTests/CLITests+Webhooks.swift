import AITBCTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension CLITests {
    /// `aitbc webhooks create/list/delete`, and `aitbc webhooks listen` printing a webhook the
    /// coordinator sends, verified with the endpoint's secret.
    @Test func webhookCommandsAndTheLocalListener() async throws {
        let server = try await CoordinatorProcess.start(
            databasePath: CoordinatorProcess.temporaryDatabase(),
            environment: ["MASTER_API_KEY": Self.master, "AITBC_WEBHOOK_ALLOW_PRIVATE": "true", "AITBC_WEBHOOK_POLL_SECONDS": "0.2"])
        defer { server.terminate() }
        let url = server.baseURL
        let port = try CoordinatorProcess.freePort()
        let created = try Self.aitbc(
            ["webhooks", "create", "http://127.0.0.1:\(port)/", "--events", "api_key.created", "--json"],
            key: Self.master, url: url)
        #expect(created.status == 0, "\(created.stdout) \(created.stderr)")
        let secret = try #require(created.object["secret"] as? String)
        let webhookID = try #require(created.object["webhook_id"] as? String)
        #expect(created.stderr.contains("shown once"))
        let listed = try Self.aitbc(["webhooks", "list"], key: Self.master, url: url)
        #expect(listed.stdout.contains(webhookID))
        #expect(!listed.stdout.contains(secret))

        let aitbc = URL(fileURLWithPath: try CoordinatorProcess.binaryPath()).deletingLastPathComponent()
            .appendingPathComponent("aitbc").path
        let output = ChildProcess.temporaryPath("listen.out")
        let listener = try ChildProcess.spawn(
            aitbc, ["webhooks", "listen", "--port", String(port), "--secret", secret], environment: ["PATH": "/usr/bin:/bin"],
            standardOutput: .file(output))
        defer {
            listener.send(SIGKILL)
            listener.waitUntilExit()
            unlink(output)
        }
        func printed() -> String { (try? String(contentsOfFile: output, encoding: .utf8)) ?? "" }
        try await Task.sleep(for: .milliseconds(500))
        _ = try Self.aitbc(["api-keys", "create", "--name", "hooked", "--role", "client"], key: Self.master, url: url)
        let deadline = ContinuousClock.now + .seconds(30)
        while !printed().contains("api_key.created"), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        let text = printed()
        #expect(text.contains("api_key.created"))
        #expect(text.contains("verified"))
        #expect(!text.contains("NOT VERIFIED"))
        #expect(text.contains("\"name\":\"hooked\""))

        let deleted = try Self.aitbc(["webhooks", "delete", webhookID], key: Self.master, url: url)
        #expect(deleted.status == 0)
        #expect(!(try Self.aitbc(["webhooks", "list"], key: Self.master, url: url)).stdout.contains(webhookID))
    }
}
