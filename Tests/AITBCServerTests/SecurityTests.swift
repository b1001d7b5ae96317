import AITBCDomain
import AITBCWire
import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import Synchronization
import Testing

@testable import AITBCServer

/// A log handler that keeps every line, with metadata, for inspection.
final class CapturedLog: Sendable {
    let lines = Mutex<[String]>([])

    func handler(label: String) -> some LogHandler { CapturingHandler(log: self, label: label) }
    var text: String { lines.withLock { $0.joined(separator: "\n") } }
}

struct CapturingHandler: LogHandler {
    let log: CapturedLog
    let label: String
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        log.lines.withLock { $0.append("\(event.level) \(label) \(event.message) \(merged) \(event.source) \(event.file)") }
    }
}

/// Where a secret must never appear: the database file, the logs, error messages.
@Suite struct SecurityTests {
    @Test func plaintextKeysNeverReachTheDatabaseFile() async throws {
        let harness = try await Harness.make()
        let found = Mutex<[String]>([Harness.clientKey, Harness.masterKey, Harness.operatorKey, Harness.minerKey])
        try await harness.application().test(.router) { client in
            let created = try await client.createKey(using: Harness.masterKey)
            let secret = try #require(created.apiKey)
            found.withLock { $0.append(secret) }
            _ = try await client.send(.get, "/v1/me?api_key=\(secret)")
            let regenerated = try await client.send(
                .post, "/v1/api-keys/\(created.keyID)/regenerate", key: Harness.masterKey, json: #"{"grace_period_seconds": 60}"#)
            let regeneratedSecret = try #require(regenerated.json["api_key"]?.stringValue)
            found.withLock { $0.append(regeneratedSecret) }
            let tenant = try await client.createTenant("acme")
            let tenantSecret = try #require(tenant.masterKey?.apiKey)
            found.withLock { $0.append(tenantSecret) }
            #expect(await harness.coordinator.flusher.flush())
        }
        // Read what is stored while open (on SQLite: the WAL not yet checkpointed) and after closing.
        var contents = try await harness.database.storedBytes()
        try await harness.coordinator.store.close()
        contents += try await harness.database.storedBytes()
        await harness.database.drop()
        #expect(contents.count > 0)
        for secret in found.withLock({ $0 }) {
            #expect(contents.range(of: Data(secret.utf8)) == nil, "secret found in the database files")
            // The digest is there instead.
        }
        // The digest is stored instead: as bytes in the SQLite file, as hex in PostgreSQL's rows as text.
        let digest = APIKeyDigest(of: Harness.clientKey).bytes
        let hex = Data(digest.map { String(format: "%02x", $0) }.joined().utf8)
        #expect(contents.range(of: Data(digest)) != nil || contents.range(of: hex) != nil)
    }

    @Test func plaintextKeysNeverReachTheLogs() async throws {
        let captured = CapturedLog()
        let logger = Logger(label: "aitbc.test", factory: { captured.handler(label: $0) })
        var settings = CoordinatorSettings()
        let harness = try await Harness.make(logger: logger, configure: { $0.logLevel = .trace; settings = $0 })
        _ = settings
        let found = Mutex<[String]>([Harness.clientKey, Harness.masterKey])
        try await harness.application(logger: logger).test(.router) { client in
            let created = try await client.createKey(using: Harness.masterKey)
            let secret = try #require(created.apiKey)
            found.withLock { $0.append(secret) }
            _ = try await client.send(.get, "/v1/me?api_key=\(secret)")
            _ = try await client.send(.get, "/v1/jobs?api_key=\(Harness.clientKey)&limit=500")
            _ = try await client.send(.get, "/v1/me", headers: ["Authorization": "Bearer \(secret)"])
            _ = try await client.send(.get, "/v1/me?api_key=aitbc_client_wrongwrongwrongwrongwrongwron123456")
            _ = try await client.send(.get, "/nope?api_key=\(secret)")
            _ = try await client.send(.get, "/v1/me?api_key=\(secret)", key: Harness.clientKey)
        }
        let text = captured.text
        #expect(text.contains("request"), "the request log lines were captured")
        // One structured line per request: method, route pattern, status, duration, key id.
        let line = try #require(text.split(separator: "\n").first { $0.contains(#""path": /v1/me"#) && $0.contains(#""status": 200"#) })
        for field in [#""method": GET"#, #""duration_us": "#, #""key_id": key_"#] { #expect(line.contains(field), "\(field) in \(line)") }
        for secret in found.withLock({ $0 }) + ["aitbc_client_wrongwrongwrongwrongwrongwron123456"] {
            #expect(!text.contains(secret), "a key appeared in the logs")
        }
        #expect(!text.contains("api_key="))
        await harness.close()
    }

    @Test func corruptKeysAreRefusedWithoutAStorageLookup() async throws {
        let harness = try await Harness.make()
        let counting = CountingStore(harness.coordinator.store)
        let coordinator = Coordinator(
            store: counting, settings: harness.settings, time: harness.clock,
            developmentDigests: [APIKeyDigest(of: Harness.clientKey)])
        let app = try buildApplication(coordinator: coordinator, settings: harness.settings)
        try await app.test(.router) { client in
            let valid = APIKeyFormat.generate(role: .client, using: SystemSecretSource())
            var corrupt = Array(valid)
            corrupt[20] = corrupt[20] == "A" ? "B" : "A"
            for key in [String(corrupt), "aitbc_client_short", "aitbc_wizard_" + String(repeating: "A", count: 34), "random-junk"] {
                let reply = try await client.send(.get, "/v1/me", key: key)
                #expect(reply.errorCode == "INVALID_API_KEY")
            }
            #expect(counting.keyLookups == 0)
            // A well-formed unknown key does reach storage, once; the miss is then cached.
            _ = try await client.send(.get, "/v1/me", key: valid)
            _ = try await client.send(.get, "/v1/me", key: valid)
            #expect(counting.keyLookups == 1)
            // A known key is served from memory after the first lookup.
            for _ in 0..<5 { _ = try await client.send(.get, "/v1/me", key: Harness.clientKey) }
            #expect(counting.keyLookups == 2)
        }
        await harness.close()
    }
}
