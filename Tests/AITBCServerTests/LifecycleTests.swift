import AITBCDomain
import AITBCServer
import AITBCTestSupport
import Foundation
import HummingbirdTesting
import Logging
import Synchronization
import Testing

/// The executable's path through `buildApplication(settings:)`: storage opened, the services added
/// in dependency order, the start-up work done before the server starts, the store closed at the end.
@Suite struct LifecycleTests {
    static func settings(_ database: TestDatabase, developmentKeys: [Role: String] = [:]) -> CoordinatorSettings {
        var settings = CoordinatorSettings()
        settings.databaseURL = database.url
        settings.logLevel = .warning
        settings.developmentKeys = developmentKeys
        if database.backend == .postgres { settings.databaseMaxConnections = TestDatabase.maximumConnections }
        return settings
    }

    @Test func developmentKeysAreRegisteredBeforeTheServerStartsAndTheStoreIsClosedAfter() async throws {
        let database = try await TestDatabase.make()
        defer { Task { await database.drop() } }
        let settings = Self.settings(database, developmentKeys: [.client: "dev-client-key-0001"])
        let built = try await buildApplication(settings: settings, logger: Logger(label: "t"), announce: { _ in })
        if database.backend == .sqlite {
            // Opening wrote nothing: the start-up work waits for the application.
            #expect(try await built.coordinator.store.key(id: StoreBootstrap.developmentKeyID(.client)) == nil)
        }
        try await built.application.test(.router) { client in
            let me = try await client.send(.get, "/v1/me", key: "dev-client-key-0001")
            #expect(me.status == .ok)
            #expect(me.json["key_id"] == .string(StoreBootstrap.developmentKeyID(.client)))
        }
        // The application's last service closed the store.
        await #expect(throws: (any Error).self) { _ = try await built.coordinator.store.key(id: "key_dev_client") }
    }

    @Test func theFirstOperatorKeyIsAnnouncedOnceAndQueuedJobsSurviveARestart() async throws {
        let database = try await TestDatabase.make()
        defer { Task { await database.drop() } }
        let settings = Self.settings(database)
        let announced = Mutex<[String]>([])
        let first = try await buildApplication(settings: settings, logger: Logger(label: "t")) { secret in
            announced.withLock { $0.append(secret) }
        }
        let masterKey = Mutex<String?>(nil)
        try await first.application.test(.router) { client in
            let secret = try #require(announced.withLock { $0.first })
            let tenant = try await client.send(
                .post, "/v1/tenants", key: secret, json: #"{"tenant_id": "acme", "name": "Acme", "plan": "pro"}"#)
            #expect(tenant.status == .created)
            let master = try #require(tenant.json["master_key"]?["api_key"]?.stringValue)
            masterKey.withLock { $0 = master }
            let job = try await client.send(.post, "/v1/jobs", key: master, json: #"{"payload": {"n": 1}}"#)
            #expect(job.status == .created)
        }
        let second = try await buildApplication(settings: settings, logger: Logger(label: "t")) { secret in
            announced.withLock { $0.append(secret) }
        }
        try await second.application.test(.router) { client in
            // The queue was loaded from storage before the server started: the job is still there.
            let master = try #require(masterKey.withLock { $0 })
            let stats = try await client.send(.get, "/v1/admin/stats", key: master)
            #expect(stats.status == .ok)
            #expect(stats.json["queue_depth"] == 1)
        }
        #expect(announced.withLock { $0.count } == 1)
    }

    @Test func theServicesAreListedInDependencyOrder() async throws {
        let harness = try await Harness.make()
        defer { Task { await harness.close() } }
        let names = harness.coordinator.services.map { String(describing: type(of: $0)) }
        let storage = harness.coordinator.storageServices.count
        #expect(names.first == "StoreClosing")
        #expect(names.dropFirst().prefix(storage).allSatisfy { $0 == "StorageService" })
        var expected = ["ClusterSync", "JobSweeper", "UsageFlusher"]
        if harness.coordinator.budgetJanitor != nil { expected.append("BudgetJanitor") }
        if harness.coordinator.budgets.leases != nil { expected.append("LeaseKeeper") }
        expected += ["RetentionJanitor", "WebhookDeliveryService", "PasswordHashingShutdown"]
        #expect(Array(names.dropFirst(1 + storage)) == expected)
        #expect(storage == (harness.backend == .postgres ? 2 : 0))
    }
}
