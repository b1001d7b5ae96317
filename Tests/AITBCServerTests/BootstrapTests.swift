import AITBCDomain
import AITBCTestSupport
import AITBCWire
import Foundation
import HummingbirdTesting
import Synchronization
import Testing

@testable import AITBCServer

/// Start-up: the first operator key, development keys, and settings that refuse to start.
@Suite struct BootstrapTests {
    @Test func firstStartOnAnEmptyStorePrintsOneOperatorKeyOnce() async throws {
        var settings = CoordinatorSettings()
        let database = try await TestDatabase.make()
        settings.databaseURL = database.url
        let announced = Mutex<[String]>([])
        let first = try await Coordinator.start(settings: settings, logger: .init(label: "t")) { secret in
            announced.withLock { $0.append(secret) }
        }
        let secret = try #require(announced.withLock { $0.first })
        #expect(APIKeyFormat.shape(of: secret) == .wellFormed(.operator))
        try await buildApplication(coordinator: first, settings: settings).test(.router) { client in
            let me = try await client.send(.get, "/v1/me", key: secret)
            #expect(me.json["role"] == "operator")
            #expect(me.json["tenant_id"] == "system")
        }
        try await first.store.close()
        let second = try await Coordinator.start(settings: settings, logger: .init(label: "t")) { secret in
            announced.withLock { $0.append(secret) }
        }
        try await second.store.close()
        await database.drop()
        #expect(announced.withLock { $0.count } == 1)
    }

    @Test func productionModeRefusesDevelopmentKeys() throws {
        #expect(throws: CoordinatorSettings.Invalid.self) {
            try CoordinatorSettings.fromEnvironment(["AITBC_ENV": "production", "CLIENT_API_KEY": "abc"])
        }
        let production = try CoordinatorSettings.fromEnvironment(["AITBC_ENV": "production"])
        #expect(production.mode == .production)
        let development = try CoordinatorSettings.fromEnvironment(["CLIENT_API_KEY": "abc", "AITBC_DEV_PLAN": "free"])
        #expect(development.developmentKeys[.client] == "abc")
    }

    @Test func badSettingsAreReportedClearly() {
        for environment in [
            ["AITBC_PORT": "http"], ["AITBC_ENV": "staging"], ["AITBC_PLANS": "free"], ["AITBC_LOG_LEVEL": "loud"],
            ["AITBC_DATABASE_URL": "mysql://x"], ["AITBC_ALLOW_QUERY_KEYS": "maybe"],
            ["CLIENT_API_KEY": "x", "AITBC_DEV_PLAN": "platinum"],
            ["AITBC_PLAN_QUOTAS": "free=20/4"], ["AITBC_PLAN_QUOTAS": "free=0/1/1"], ["AITBC_MAX_CONSTRAINTS_BYTES": "10"],
            ["AITBC_FORGET_MINERS_AFTER_SECONDS": "soon"],
        ] {
            #expect(throws: CoordinatorSettings.Invalid.self, "\(environment)") {
                try CoordinatorSettings.fromEnvironment(environment)
            }
        }
    }

    @Test func jobQuotasAndSizeBoundsAreReadFromTheEnvironment() throws {
        let settings = try CoordinatorSettings.fromEnvironment([
            "AITBC_PLAN_QUOTAS": "free=3/2/1, pro=30/20/10", "AITBC_MAX_CONSTRAINTS_BYTES": "4096",
            "AITBC_MAX_CAPABILITIES_BYTES": "2048", "AITBC_FORGET_MINERS_AFTER_SECONDS": "3600",
        ])
        #expect(settings.jobs.quotas.limits(for: "pro") == TenantJobLimits(queued: 30, running: 20, miners: 10))
        #expect(settings.jobs.quotas.limits(for: "unknown") == TenantJobLimits(queued: 3, running: 2, miners: 1))
        #expect(settings.jobs.maximumConstraintsBytes == 4096)
        #expect(settings.jobs.maximumCapabilitiesBytes == 2048)
        #expect(settings.jobs.forgetMinersAfterSeconds == 3600)
    }

    @Test func developmentKeysAreRegisteredVerbatimInTestTenant() async throws {
        let harness = try await Harness.make(plan: "pro")
        try await harness.test { client in
            for (key, role) in [
                (Harness.clientKey, "client"), (Harness.minerKey, "miner"), (Harness.masterKey, "master"),
                (Harness.operatorKey, "operator"),
            ] {
                let me = try await client.send(.get, "/v1/me", key: key)
                #expect(me.json["role"]?.stringValue == role)
                #expect(me.json["tenant_id"] == "test-tenant")
                #expect(me.json["plan"] == "pro")
            }
        }
    }
}
