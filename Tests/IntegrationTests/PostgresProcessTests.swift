import AITBCTestSupport
import Foundation
import PostgresNIO
import Testing

/// The real server process on PostgreSQL: the whole flow over HTTP, a restart, and what the
/// database holds afterwards.
@Suite(.serialized, .enabled(if: PostgresTestServer.isConfigured, PostgresTestServer.skipComment), .timeLimit(.minutes(2)))
struct PostgresProcessTests {
    static let operatorKey = "integration-operator-key-postgres-01"

    @Test func tenantsKeysAndACompletedJobSurviveARestartOnPostgreSQL() async throws {
        let database = try await PostgresTestServer.createDatabase()
        let environment = ["AITBC_DATABASE_URL": database.url, "OPERATOR_API_KEY": Self.operatorKey]
        let first = try await CoordinatorProcess.start(databasePath: "", environment: environment)
        let tenant = try await first.request(
            .POST, "/v1/tenants", key: Self.operatorKey, body: #"{"tenant_id": "acme", "name": "Acme", "plan": "pro"}"#)
        #expect(tenant.status == 201)
        let master = try #require((tenant.json["master_key"] as? [String: Any])?["api_key"] as? String)
        let client = try await Self.createKey(on: first, role: "client", by: master)
        let miner = try await Self.createKey(on: first, role: "miner", by: master)

        let submitted = try await first.request(
            .POST, "/v1/jobs", key: client, body: #"{"payload": {"prompt": "hello"}, "constraints": {"gpu": "4090"}}"#)
        #expect(submitted.status == 201)
        let jobID = try #require(submitted.json["job_id"] as? String)
        let registered = try await first.request(
            .POST, "/v1/miners/register?miner_id=gpu-1", key: miner, body: #"{"capabilities": {"gpu": {"model": "RTX 4090"}}}"#)
        #expect(registered.status == 200)
        let polled = try await first.request(.POST, "/v1/miners/poll", key: miner, body: #"{"max_wait_seconds": 5}"#)
        #expect(polled.json["job_id"] as? String == jobID)
        let delivered = try await first.request(
            .POST, "/v1/miners/\(jobID)/result", key: miner, body: #"{"result": {"text": "hi there"}, "metrics": {"ms": 12}}"#)
        #expect(delivered.status == 200)
        first.terminate()

        let second = try await CoordinatorProcess.start(databasePath: "", environment: environment)
        defer { second.terminate() }
        let me = try await second.request(.GET, "/v1/me", key: client)
        #expect(me.status == 200)
        #expect(me.json["tenant_id"] as? String == "acme")
        let job = try await second.request(.GET, "/v1/jobs/\(jobID)", key: client)
        #expect(job.json["state"] as? String == "COMPLETED")
        #expect(job.json["assigned_miner_id"] as? String == "gpu-1")
        let result = try await second.request(.GET, "/v1/jobs/\(jobID)/result", key: client)
        #expect(result.status == 200)
        #expect((result.json["result"] as? [String: Any])?["text"] as? String == "hi there")
        let stored = try await second.request(.GET, "/v1/tenants/acme", key: Self.operatorKey)
        #expect(stored.json["plan"] as? String == "pro")
        let audit = try await second.request(.GET, "/v1/audit-events?limit=100", key: master)
        #expect(audit.body.contains("api_key.created"))
        second.terminate()
        try await database.drop()
    }

    @Test func noPlaintextKeyIsStoredAnywhereInTheDatabase() async throws {
        let database = try await PostgresTestServer.createDatabase()
        let server = try await CoordinatorProcess.start(
            databasePath: "",
            environment: [
                "AITBC_DATABASE_URL": database.url, "OPERATOR_API_KEY": Self.operatorKey, "AITBC_USAGE_FLUSH_SECONDS": "0.2",
            ])
        defer { server.terminate() }
        let tenant = try await server.request(.POST, "/v1/tenants", key: Self.operatorKey, body: #"{"name": "Scan", "plan": "free"}"#)
        let master = try #require((tenant.json["master_key"] as? [String: Any])?["api_key"] as? String)
        let client = try await Self.createKey(on: server, role: "client", by: master)
        let listed = try await server.request(.GET, "/v1/api-keys", key: master)
        let clientID = try #require(
            ((listed.json["items"] as? [[String: Any]]) ?? []).first { $0["role"] as? String == "client" }?["key_id"] as? String)
        let regenerated = try await server.request(
            .POST, "/v1/api-keys/\(clientID)/regenerate", key: master, body: #"{"grace_period_seconds": 600}"#)
        let newClient = try #require(regenerated.json["api_key"] as? String)
        #expect(try await server.request(.GET, "/v1/me?api_key=\(newClient)").status == 200)
        #expect(try await server.request(.GET, "/v1/me", key: client).status == 200)
        try await Task.sleep(for: .milliseconds(600))  // usage and last use are flushed

        let secrets = [Self.operatorKey, master, client, newClient]
        let rows = try await database.storedRows()
        let digests = try await database.withConnection { connection in
            var digests: [String] = []
            for secret in secrets {
                digests += try await connection.query(
                    "SELECT encode(sha256(convert_to(\(secret), 'UTF8')), 'hex')", logger: PostgresTestServer.logger
                ).collect().map { try $0.decode(String.self) }
            }
            return digests
        }
        #expect(rows.count > 10)
        let dump = rows.joined(separator: "\n")
        for secret in secrets {
            let hex = secret.utf8.map { String(format: "%02x", $0) }.joined()
            #expect(!dump.contains(secret), "a plaintext key is stored")
            #expect(!dump.contains(hex), "a plaintext key is stored as bytes")
        }
        // What is stored instead: the digests, of the old client secret too (its grace period runs).
        for digest in digests { #expect(dump.contains(digest), "a key's SHA-256 digest is missing") }
        server.terminate()
        try await database.drop()
    }

    static func createKey(on server: CoordinatorProcess, role: String, by master: String) async throws -> String {
        let reply = try await server.request(.POST, "/v1/api-keys", key: master, body: #"{"name": "\#(role) key", "role": "\#(role)"}"#)
        #expect(reply.status == 201)
        return try #require(reply.json["api_key"] as? String)
    }
}
