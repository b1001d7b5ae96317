import AITBCTestSupport
import Foundation
import Testing

/// Webhooks from real coordinator processes: an acknowledged change's event survives `kill -9` and is
/// delivered after the restart; several instances on one PostgreSQL database deliver each event once.
@Suite(.serialized, .timeLimit(.minutes(4))) struct WebhookProcessTests {
    static let master = "integration-master-key-000000000001"
    static let settings = [
        "AITBC_WEBHOOK_ALLOW_PRIVATE": "true", "AITBC_WEBHOOK_RETRY_BASE_SECONDS": "0.2",
        "AITBC_WEBHOOK_POLL_SECONDS": "0.2",
    ]

    static func createWebhook(
        on server: CoordinatorProcess, key: String, port: Int, events: [String], headers: [String: String] = [:]
    ) async throws {
        let list = events.map { "\"\($0)\"" }.joined(separator: ", ")
        let reply = try await server.request(
            .POST, "/v1/webhooks", key: key, body: #"{"url": "http://127.0.0.1:\#(port)/hook", "events": [\#(list)]}"#,
            headers: headers)
        guard reply.status == 201 else { throw ProcessError(description: "create webhook: \(reply.status) \(reply.body)") }
    }

    static func waitUntil(_ limit: Duration = .seconds(60), _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + limit
        while !condition() {
            guard ContinuousClock.now < deadline else { throw ProcessError(description: "timed out") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    @Test func anAcknowledgedRevokeIsDeliveredAfterKill9OncePerEvent() async throws {
        let database = CoordinatorProcess.temporaryDatabase()
        let environment = Self.settings.merging(["MASTER_API_KEY": Self.master]) { $1 }
        let sinkPort = try CoordinatorProcess.freePort()
        let first = try await CoordinatorProcess.start(databasePath: database, environment: environment)
        // The receiver is down while the first process runs: nothing can be delivered before the kill.
        try await Self.createWebhook(on: first, key: Self.master, port: sinkPort, events: ["api_key.revoked"])
        var keys: [String] = []
        for index in 0..<4 {
            let reply = try await first.request(.POST, "/v1/api-keys", key: Self.master, body: #"{"name": "k\#(index)", "role": "client"}"#)
            keys.append(try #require(reply.json["key_id"] as? String))
        }
        for key in keys {
            #expect(try await first.request(.DELETE, "/v1/api-keys/\(key)", key: Self.master).status == 200)
        }
        first.kill9()

        let sink = WebhookSink()
        try await sink.start(port: sinkPort)
        let second = try await CoordinatorProcess.start(databasePath: database, environment: environment, port: first.port)
        defer { second.terminate() }
        try await Self.waitUntil { sink.eventIDs.count >= keys.count }
        // A moment more: nothing is delivered twice.
        try await Task.sleep(for: .seconds(1))
        let ids = sink.eventIDs
        #expect(ids.count == keys.count)
        #expect(Set(ids).count == ids.count, "an event was delivered twice: \(ids)")
        for key in keys { #expect(sink.bodies.contains { $0.contains(key) && $0.contains("api_key.revoked") }) }
        await sink.stop()
    }

    @Test(.enabled(if: PostgresTestServer.isConfigured, PostgresTestServer.skipComment))
    func threeInstancesOnPostgreSQLDeliverEachEventOnce() async throws {
        let database = try await PostgresTestServer.createDatabase()
        let sink = WebhookSink()
        let sinkPort = try await sink.start(port: 0)
        var servers: [CoordinatorProcess] = []
        for _ in 0..<3 {
            let environment = MultiInstanceTests.environment(database.url).merging(Self.settings) { $1 }
            servers.append(try await CoordinatorProcess.start(databasePath: "", environment: environment))
        }
        defer { for server in servers { server.terminate() } }
        try await Self.createWebhook(
            on: servers[0], key: MultiInstanceTests.operatorKey, port: sinkPort, events: ["api_key.created", "api_key.revoked"],
            headers: ["X-Tenant-ID": "test-tenant"])
        // The other instances hear of the endpoint (NOTIFY) before they write events for it.
        try await Task.sleep(for: .seconds(1))
        var created = 0
        for round in 0..<12 {
            let server = servers[round % 3]
            let key = try await MultiInstanceTests.createKey(on: server, role: "client", tenant: "test-tenant")
            created += 1
            #expect(try await servers[(round + 1) % 3].request(.DELETE, "/v1/api-keys/\(key.id)", key: MultiInstanceTests.operatorKey).status == 200)
        }
        let expected = created * 2
        try await Self.waitUntil { sink.eventIDs.count >= expected }
        try await Task.sleep(for: .seconds(2))
        let ids = sink.eventIDs
        #expect(ids.count == expected, "received \(ids.count) for \(expected) events")
        #expect(Set(ids).count == ids.count, "some event was delivered by more than one instance")
        await sink.stop()
    }
}
