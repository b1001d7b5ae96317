import AITBCTestSupport
import Foundation
import Testing

extension CLITests {
    @Test func jobsReceiptPrintsTheReceiptAndVerifiesIt() async throws {
        let path = CoordinatorProcess.temporaryDatabase()
        let server = try await CoordinatorProcess.start(
            databasePath: path,
            environment: ["CLIENT_API_KEY": Self.client, "MINER_API_KEY": Self.miner, "MASTER_API_KEY": Self.master])
        defer { server.terminate() }
        let url = server.baseURL
        let submitted = try Self.aitbc(["jobs", "submit", "--payload", #"{"prompt": "h\u00e9 \u2028", "x": 0.1}"#, "--json"], key: Self.client, url: url)
        let jobID = try #require(submitted.object["job_id"] as? String)
        let early = try Self.aitbc(["jobs", "receipt", jobID, "--verify"], key: Self.client, url: url)
        #expect(early.status == 5)
        #expect(early.stderr.contains("NOT_FOUND"))

        _ = try Self.aitbc(["miners", "register", "--miner-id", "gpu-1", "--json"], key: Self.miner, url: url)
        let polled = try Self.aitbc(["miners", "poll", "--miner-id", "gpu-1", "--wait", "2", "--json"], key: Self.miner, url: url)
        #expect(polled.object["job_id"] as? String == jobID)
        let status = try await CoordinatorProcess.httpPost(
            url: url + "/v1/miners/\(jobID)/result?miner_id=gpu-1", key: Self.miner,
            body: #"{"result": {"text": "ok"}, "metrics": {"duration_ms": 500}}"#)
        #expect(status == 200)

        let shown = try Self.aitbc(["jobs", "receipt", jobID], key: Self.client, url: url)
        #expect(shown.status == 0)
        #expect(shown.object["job_id"] as? String == jobID)
        #expect((shown.object["signature"] as? [String: Any])?["alg"] as? String == "Ed25519")
        let verified = try Self.aitbc(["jobs", "receipt", jobID, "--verify"], key: Self.client, url: url)
        #expect(verified.status == 0)
        #expect(verified.stderr.contains("signature: valid"))

        // A receipt changed in storage no longer verifies (SQLite: the file is at hand).
        let database = try await TestDatabase.named(path)
        guard let file = database.sqlitePath, FileManager.default.isExecutableFile(atPath: "/usr/bin/sqlite3") else { return }
        let tampered = try Self.run(
            "/usr/bin/sqlite3", [file, "UPDATE jobs SET receipt = replace(receipt, 'gpu_seconds', 'gpu_minutes') WHERE id = '\(jobID)'"],
            environment: [:])
        #expect(tampered.status == 0)
        let invalid = try Self.aitbc(["jobs", "receipt", jobID, "--verify"], key: Self.client, url: url)
        #expect(invalid.status == 8)
        #expect(invalid.stdout.contains("gpu_minutes"))
        #expect(invalid.stderr.contains("signature: INVALID"))
    }
}
