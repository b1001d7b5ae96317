import AITBCDomain
import AITBCTestSupport
import AITBCWire
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import Testing

@testable import AITBCServer

/// The receipt signing key: configured, or generated once and kept in storage; every key ever used
/// stays listed; the seed is never shown.
@Suite struct ReceiptKeyTests {
    static let seedHex = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"

    /// A coordinator on `database` (which outlives it), with `seed` configured; its storage runs until closed.
    static func start(_ database: TestDatabase, seed: ReceiptSigningSeed? = nil) async throws -> Coordinator {
        var settings = CoordinatorSettings()
        settings.databaseURL = database.url
        settings.logLevel = .warning
        if database.backend == .postgres { settings.databaseMaxConnections = TestDatabase.maximumConnections }
        settings.receiptSigningSeed = seed
        let coordinator = try await Coordinator.start(settings: settings, logger: Logger(label: "test")) { _ in }
        for service in coordinator.storageServices { Task { try? await service.run() } }
        return coordinator
    }

    @Test func theGeneratedKeySurvivesARestart() async throws {
        let database = try await TestDatabase.make()
        defer { Task { await database.drop() } }
        let first = try await Self.start(database)
        let keyID = try #require(first.receipts.currentKeyID)
        try await first.store.close()
        let second = try await Self.start(database)
        #expect(second.receipts.currentKeyID == keyID)
        let keys = try await second.receipts.keys()
        #expect(keys.map(\.keyID) == [keyID])
        #expect(keys.first?.generated == true)
        try await second.store.close()
    }

    @Test func instancesStartingAtOnceShareOneGeneratedKey() async throws {
        let database = try await TestDatabase.make()
        // A SQLite file belongs to one instance; the store contract covers two callers on it.
        guard database.backend == .postgres else { return await database.drop() }
        defer { Task { await database.drop() } }
        async let one = Self.start(database)
        async let two = Self.start(database)
        let (first, second) = try await (one, two)
        #expect(first.receipts.currentKeyID != nil)
        #expect(first.receipts.currentKeyID == second.receipts.currentKeyID)
        #expect(try await first.store.receiptKeys().count == 1)
        try await first.store.close()
        try await second.store.close()
    }

    @Test func aConfiguredKeyIsUsedAndEarlierKeysStayListed() async throws {
        let database = try await TestDatabase.make()
        defer { Task { await database.drop() } }
        let generated = try await Self.start(database)
        let generatedID = try #require(generated.receipts.currentKeyID)
        try await generated.store.close()

        let seed = try #require(ReceiptSigningSeed(hex: Self.seedHex))
        let configured = try await Self.start(database, seed: seed)
        // RFC 8032's first test vector: this seed's public key.
        let expected = Base64URL.encode(try #require(hexBytes("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")))
        #expect(configured.receipts.currentKeyID == expected)
        try await configured.testApplication().test(.router) { client in
            let keys = try await client.send(.get, "/v1/receipts/keys").decode(ItemList<ReceiptKeyView>.self).items
            #expect(Set(keys.map(\.keyID)) == [generatedID, expected])
            #expect(keys.first { $0.current }?.keyID == expected)
        }
        try await configured.store.close()

        // Back to no setting: the generated key signs again; the configured one stays listed.
        let again = try await Self.start(database)
        #expect(again.receipts.currentKeyID == generatedID)
        #expect(try await again.store.receiptKeys().count == 2)
        try await again.store.close()
    }

    @Test func anInvalidSeedSettingStopsStartWithAMessageThatDoesNotRepeatIt() throws {
        for bad in ["abc", String(repeating: "z", count: 64), String(Self.seedHex.dropLast(2)), Self.seedHex + "00"] {
            do {
                _ = try CoordinatorSettings.fromEnvironment(["AITBC_RECEIPT_SIGNING_KEY_HEX": bad])
                Issue.record("\(bad.count) characters were accepted")
            } catch {
                let message = "\(error)"
                #expect(message.contains("AITBC_RECEIPT_SIGNING_KEY_HEX must be 64 hex digits"))
                #expect(!message.contains(bad))
            }
        }
        let settings = try CoordinatorSettings.fromEnvironment(["AITBC_RECEIPT_SIGNING_KEY_HEX": Self.seedHex.uppercased()])
        #expect(settings.receiptSigningSeed?.hex == Self.seedHex)
        #expect(!String(describing: settings).lowercased().contains(Self.seedHex))
        #expect(!String(reflecting: settings).lowercased().contains(Self.seedHex))
    }

    @Test func theSeedNeverReachesTheLogsMetricsOrAnswers() async throws {
        let log = CapturedLog()
        let logger = Logger(label: "test") { log.handler(label: $0) }
        let seed = try #require(ReceiptSigningSeed(hex: Self.seedHex))
        let harness = try await Harness.make(logger: logger) {
            $0.logLevel = .trace
            $0.receiptSigningSeed = seed
        }
        let answers = Mutex("")
        try await harness.application(logger: logger).test(.router) { client in
            let jobID = try await ReceiptTests.runJob(client, body: #"{"result": "ok"}"#)
            for (path, key) in [
                ("/v1/jobs/\(jobID)/receipt", Harness.clientKey), ("/v1/receipts/keys", nil), ("/metrics", Harness.operatorKey),
                ("/v1/jobs/\(jobID)/result", Harness.clientKey), ("/openapi.json", nil),
            ] {
                let reply = try await client.send(.get, path, key: key)
                #expect(reply.status == .ok, "\(path)")
                answers.withLock { $0 += reply.text }
            }
        }
        await harness.close()
        let secrets = [Self.seedHex, Self.seedHex.uppercased(), Base64URL.encode(seed.bytes)]
        for secret in secrets {
            #expect(!log.text.contains(secret))
            #expect(!answers.withLock { $0 }.contains(secret))
        }
        #expect(!log.text.isEmpty)
    }
}

/// The bytes of a hex string.
private func hexBytes(_ hex: String) -> [UInt8]? {
    ReceiptSigningSeed(hex: hex)?.bytes
}

extension Coordinator {
    /// The application over this coordinator with test settings.
    fileprivate func testApplication() throws -> some ApplicationProtocol {
        var settings = CoordinatorSettings()
        settings.logLevel = .warning
        return try AITBCServer.buildApplication(coordinator: self, settings: settings)
    }
}
