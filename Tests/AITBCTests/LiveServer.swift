import AITBC
import AITBCDomain
import AITBCServer
import AITBCTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging

/// A coordinator listening on a real loopback port, for SDK tests over the wire (no mocks), on a fresh
/// database of ``TestBackend/current``.
enum LiveServer {
    static let client = "sdk-client-key-00000001"
    static let miner = "sdk-miner-key-000000001"
    static let master = "sdk-master-key-00000001"
    static let `operator` = "sdk-operator-key-000001"

    /// Runs `body` with the base URL of a fresh server whose `test-tenant` is on `plan`.
    static func run(plan: String = "enterprise", _ body: @Sendable (String) async throws -> Void) async throws {
        try await run(plan: plan) { url, _ in try await body(url) }
    }

    /// Runs `body` with the base URL and the coordinator behind it.
    static func run(plan: String = "enterprise", _ body: @Sendable (String, Coordinator) async throws -> Void) async throws {
        var settings = CoordinatorSettings()
        settings.developmentPlan = plan
        settings.port = 0
        settings.developmentKeys = [.client: client, .miner: miner, .master: master, .operator: `operator`]
        let database = try await TestDatabase.make(prefix: "aitbc_sdk_")
        settings.databaseURL = database.url
        if database.backend == .postgres { settings.databaseMaxConnections = TestDatabase.maximumConnections }
        var logger = Logger(label: "sdk-test")
        logger.logLevel = .warning
        let coordinator: Coordinator
        do {
            coordinator = try await Coordinator.start(settings: settings, logger: logger) { _ in }
        } catch {
            await database.drop()
            throw error
        }
        settings.logLevel = .warning
        do {
            try await buildApplication(coordinator: coordinator, settings: settings, logger: logger).test(.live) { testClient in
                guard let port = testClient.port else { throw CancellationError() }
                // On PostgreSQL: its first catch-up with other instances forgets every cached key.
                let deadline = ContinuousClock.now + .seconds(15)
                while coordinator.bus.isShared, coordinator.cluster.resyncCount == 0, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(10))
                }
                try await body("http://127.0.0.1:\(port)", coordinator)
            }
        } catch {
            // A failing test must report, not trap on an unclosed database at release.
            try? await coordinator.store.close()
            await database.drop()
            throw error
        }
        try? await coordinator.store.close()
        await database.drop()
    }

    static func sdk(_ url: String, key: String, retries: Int = 2) throws -> AITBCClient {
        var configuration = AITBCClient.Configuration()
        configuration.maximumRetries = retries
        return try AITBCClient(apiKey: key, baseURL: url, configuration: configuration)
    }
}
