import AITBCServer
import AITBCStorage
import AITBCTestSupport
import Foundation
import HummingbirdTesting
import Logging
import Testing

@testable import AITBCDomain

/// Contract points about where keys live: the cache lifetime as the backstop for a revocation whose
/// event never arrives, a key cache that start-up leaves empty and use fills within its bound, and
/// the failed-authentication throttle keyed on the peer when forwarded headers are not trusted.
extension ContractGapsTests {
    /// The backend of this pass (scripts/test runs the HTTP and process suites once on each).
    static let backends = [TestBackend.current.rawValue]

    /// Two coordinators on one store with nothing between them (no bus: each hears of the other's
    /// changes only through storage), on one hand-moved clock.
    struct UnconnectedPair {
        let a: Coordinator
        let b: Coordinator
        let clock: ManualTimeSource
        let database: TestDatabase?

        func close() async {
            try? await a.store.close()
            try? await b.store.close()
            await database?.drop()
        }
    }

    static func unconnectedPair(_ backend: String, cacheLifetimeSeconds: Int) async throws -> UnconnectedPair {
        var settings = CoordinatorSettings()
        settings.authTarpitMilliseconds = 0
        settings.logLevel = .warning
        settings.keyCacheLifetimeSeconds = cacheLifetimeSeconds
        settings.developmentKeys = [.master: Harness.masterKey, .client: Harness.clientKey]
        let clock = ManualTimeSource(Date(timeIntervalSince1970: 1_795_000_000))
        var database: TestDatabase?
        let open: () async throws -> any CoordinatorStore
        if backend == "postgres" {
            // The suite's patient timeouts (a busy machine runs many suites at once).
            let made = try await TestDatabase.make(prefix: "aitbc_gaps_")
            database = made
            open = {
                let store = try await PostgresStore.open(url: made.url)
                // Its pool runs until the store is closed.
                Task { await store.database.run() }
                return store
            }
        } else {
            let path = FileManager.default.temporaryDirectory
                .appendingPathComponent("aitbc-unconnected-\(UUID().uuidString)/coordinator.sqlite").path
            open = { try await SQLiteStore.open(path: path) }
        }
        var members: [Coordinator] = []
        for name in ["a", "b"] {
            let store = try await open()
            let digests = try await StoreBootstrap.registerDevelopmentKeys(
                settings.developmentKeys, plan: "enterprise", store: store, time: clock)
            // The default bus: standalone, nothing is published to the other instance.
            members.append(
                Coordinator(store: store, settings: settings, time: clock, developmentDigests: digests, logger: Logger(label: name)))
        }
        return UnconnectedPair(a: members[0], b: members[1], clock: clock, database: database)
    }

    /// With every revocation event lost, the other instance trusts its cached copy of a revoked key
    /// no longer than the key cache lifetime (30 s): still admitted 29.999 s after it was cached,
    /// refused at 30 s. The instance that revoked refuses at once.
    @Test(arguments: backends)
    func aRevocationWhoseEventIsLostIsEnforcedWhenTheCacheLifetimeEnds(backend: String) async throws {
        let pair = try await Self.unconnectedPair(backend, cacheLifetimeSeconds: 30)
        do {
            let master = try await pair.a.authenticator.authenticate(Harness.masterKey, from: nil)
            let issued = try await pair.a.keys.create(NewKeyRequest(name: "unheard", role: "client"), by: master)
            // B caches the key now (t0).
            #expect(try await pair.b.authenticator.authenticate(issued.secret, from: nil).key.id == issued.record.id)
            pair.clock.advance(by: 10)
            _ = try await pair.a.keys.revoke(issued.record.id, by: master)
            await #expect(throws: CoordinatorError.revokedKey) {
                try await pair.a.authenticator.authenticate(issued.secret, from: nil)
            }
            pair.clock.advance(by: 19.999)
            #expect(try await pair.b.authenticator.authenticate(issued.secret, from: nil).key.id == issued.record.id)
            pair.clock.advance(by: 0.001)
            await #expect(throws: CoordinatorError.revokedKey) {
                try await pair.b.authenticator.authenticate(issued.secret, from: nil)
            }
        } catch {
            await pair.close()
            throw error
        }
        await pair.close()
    }

    /// Start-up reads no key into memory, however many are stored; keys enter the cache as they are
    /// used, and the cache never holds more than its capacity (16 here): a key used long ago is read
    /// from storage again, the one just used is answered from memory.
    @Test func startUpLoadsNoKeysAndTheCacheHoldsOnlyRecentlyUsedKeysWithinItsBound() async throws {
        let seeded = try await Harness.make(configure: { $0.keyCacheCapacity = 16 })
        var secrets: [String] = []
        for index in 0..<200 {
            let secret = APIKeyFormat.generate(role: .client, using: SystemSecretSource())
            secrets.append(secret)
            let record = APIKeyRecord(
                id: "key_seeded_\(index)", tenantID: "test-tenant", name: "seeded \(index)", role: .client, scopes: nil,
                digest: APIKeyDigest(of: secret), hint: APIKeyFormat.hint(for: secret), createdAt: seeded.clock.now())
            try await seeded.coordinator.store.insertKey(
                record,
                event: AuditEvent(
                    id: "evt_seeded_\(index)", kind: .keyCreated, tenantID: "test-tenant", actorKeyID: nil,
                    targetID: record.id, createdAt: seeded.clock.now()))
        }
        try await seeded.coordinator.store.close()

        // A new start on the same store.
        let coordinator = try await Coordinator.start(
            settings: seeded.settings, time: seeded.clock, logger: Logger(label: "restarted")) { _ in }
        let cache = coordinator.authenticator
        #expect(cache.keys.count == 0)
        #expect(cache.cacheStatistics == KeyAuthenticator.CacheStatistics())
        do {
            try await Self.useKeys(secrets, on: coordinator, settings: seeded.settings)
        } catch {
            try? await coordinator.store.close()
            throw error
        }
        try await coordinator.store.close()
    }

    /// Uses the keys over HTTP and watches `coordinator`'s key cache (capacity 16) follow them.
    static func useKeys(_ secrets: [String], on coordinator: Coordinator, settings: CoordinatorSettings) async throws {
        let cache = coordinator.authenticator
        let application = try buildApplication(coordinator: coordinator, settings: settings)
        try await application.test(.router) { (client) async throws in
            // On PostgreSQL, its first catch-up with other instances empties the cache: wait for it.
            if coordinator.bus.isShared { try await waitUntil { coordinator.cluster.resyncCount > 0 } }
            for secret in secrets.prefix(5) {
                #expect(try await client.send(.get, "/v1/me", key: secret).status == .ok)
            }
            #expect(cache.keys.count == 5)
            #expect(cache.cacheStatistics.lookups == 5)

            for secret in secrets {
                #expect(try await client.send(.get, "/v1/me", key: secret).status == .ok)
            }
            #expect(cache.keys.count <= 16)
            #expect(cache.keys.count >= 8)
            let before = cache.cacheStatistics
            // The key just used is in memory...
            #expect(try await client.send(.get, "/v1/me", key: secrets[199]).status == .ok)
            #expect(cache.cacheStatistics.hits == before.hits + 1)
            #expect(cache.cacheStatistics.lookups == before.lookups)
            // ...the first one was evicted, and is read again from storage.
            #expect(try await client.send(.get, "/v1/me", key: secrets[0]).status == .ok)
            #expect(cache.cacheStatistics.lookups == before.lookups + 1)
            #expect(cache.keys.count <= 16)
        }
    }

    /// With forwarded headers not trusted (the default), failed authentications are counted against
    /// the connection's peer: a guesser who changes `X-Forwarded-For` on every try is throttled as
    /// the one peer it is. A valid key from that peer still works.
    @Test func withoutTrustedProxiesTheFailureThrottleCountsThePeerNotXForwardedFor() async throws {
        let harness = try await Harness.make(configure: {
            $0.trustForwardedFor = false
            $0.trustedProxies = []
            $0.authFailuresPerMinute = 3
        })
        #expect(!harness.settings.trustForwardedFor)
        try await harness.testLive { client in
            #expect(try await client.send(.get, "/v1/me", key: Harness.clientKey, from: "198.51.100.200").status == .ok)
            for attempt in 1...3 {
                let reply = try await client.send(.get, "/v1/me", key: "guess-\(attempt)", from: "203.0.113.\(attempt)")
                #expect(reply.status == .unauthorized, "attempt \(attempt)")
            }
            let fourth = try await client.send(.get, "/v1/me", key: "guess-4", from: "203.0.113.4")
            #expect(fourth.status == .tooManyRequests)
            #expect(fourth.errorCode == "RATE_LIMIT_EXCEEDED")
            let spoofedIPv6 = try await client.send(.get, "/v1/me", key: "guess-5", from: "2001:db8::5")
            #expect(spoofedIPv6.status == .tooManyRequests)
            #expect(try await client.send(.get, "/v1/me", key: "guess-6").status == .tooManyRequests)
            // The same peer's valid key is not locked out.
            #expect(try await client.send(.get, "/v1/me", key: Harness.clientKey, from: "203.0.113.9").status == .ok)
        }
    }
}
