import AITBCDomain
import AITBCServer
import AITBCStorage
import AITBCTestSupport
import AITBCWire
import Foundation
import HummingbirdTesting
import Logging
import Synchronization
import Testing

/// Two coordinators on one store, joined by a bus: what one changes, the other follows. (The same
/// domain code runs on PostgreSQL with LISTEN/NOTIFY; here SQLite and an in-process bus stand in, so
/// the event handling is tested without a database server.)
@Suite(.enabled(if: TestBackend.current == .sqlite, Comment(rawValue: TestBackend.onlyOnSQLite)))
struct ClusterTests {
    struct Pair {
        let a: Coordinator
        let b: Coordinator
        let hub: InProcessHub
        let clock: ManualTimeSource
        let settings: CoordinatorSettings
    }

    static func pair() async throws -> Pair {
        var settings = CoordinatorSettings()
        settings.authTarpitMilliseconds = 0
        settings.logLevel = .warning
        settings.developmentKeys = [
            .client: Harness.clientKey, .miner: Harness.minerKey, .master: Harness.masterKey,
            .operator: Harness.operatorKey,
        ]
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("aitbc-cluster-\(UUID().uuidString)/coordinator.sqlite").path
        settings.databaseURL = "sqlite:" + path
        let clock = ManualTimeSource(Date(timeIntervalSince1970: 1_795_000_000))
        let hub = InProcessHub()
        var members: [Coordinator] = []
        for name in ["a", "b"] {
            let store = try await SQLiteStore.open(path: path)
            let digests = try await StoreBootstrap.registerDevelopmentKeys(
                settings.developmentKeys, plan: "enterprise", store: store, time: clock)
            let coordinator = Coordinator(
                store: store, settings: settings, time: clock, developmentDigests: digests, bus: hub.bus(name),
                logger: Logger(label: "cluster-\(name)"))
            try await coordinator.cluster.restore()
            members.append(coordinator)
        }
        return Pair(a: members[0], b: members[1], hub: hub, clock: clock, settings: settings)
    }

    /// Runs both instances' event handling while `body` runs.
    static func withSync(_ pair: Pair, _ body: () async throws -> Void) async throws {
        let syncs = [pair.a, pair.b].map { coordinator in Task { try await coordinator.cluster.run() } }
        // Both listen before anything is published (a busy machine may take a while to start them).
        let deadline = ContinuousClock.now + .seconds(10)
        while pair.hub.listening < 2, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        do {
            try await body()
        } catch {
            for sync in syncs { sync.cancel() }
            try? await pair.a.store.close()
            try? await pair.b.store.close()
            throw error
        }
        for sync in syncs { sync.cancel() }
        try await pair.a.store.close()
        try await pair.b.store.close()
    }

    /// Whether `condition` holds within 10 s (patient: a busy machine runs the whole suite at once).
    static func eventually(_ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(5))
        }
        return false
    }

    static func principal(_ coordinator: Coordinator, _ key: String) async throws -> Principal {
        try await coordinator.authenticator.authenticate(key, from: "127.0.0.1")
    }

    @Test func aKeyRevokedOnOneInstanceIsRefusedByTheOther() async throws {
        let pair = try await Self.pair()
        try await Self.withSync(pair) {
            let master = try await Self.principal(pair.a, Harness.masterKey)
            let issued = try await pair.a.keys.create(NewKeyRequest(name: "shared", role: "client"), by: master)
            // B knows the key (it is in B's cache) before the revoke.
            #expect(try await Self.principal(pair.b, issued.secret).key.id == issued.record.id)
            _ = try await pair.a.keys.revoke(issued.record.id, by: master)
            #expect(try await Self.eventually {
                do {
                    _ = try await Self.principal(pair.b, issued.secret)
                    return false
                } catch let error as CoordinatorError {
                    return error.code == .apiKeyRevoked
                }
            })
        }
    }

    @Test func aRegeneratedSecretStopsWorkingOnTheOtherInstance() async throws {
        let pair = try await Self.pair()
        try await Self.withSync(pair) {
            let master = try await Self.principal(pair.a, Harness.masterKey)
            let issued = try await pair.a.keys.create(NewKeyRequest(name: "rotated", role: "client"), by: master)
            _ = try await Self.principal(pair.b, issued.secret)
            let renewed = try await pair.a.keys.regenerate(issued.record.id, gracePeriodSeconds: 0, by: master)
            #expect(try await Self.eventually { (try? await Self.principal(pair.b, issued.secret)) == nil })
            #expect(try await Self.principal(pair.b, renewed.secret).key.id == issued.record.id)
        }
    }

    @Test func aPlanChangeOnOneInstanceAppliesOnTheOther() async throws {
        let pair = try await Self.pair()
        try await Self.withSync(pair) {
            let operatorKey = try await Self.principal(pair.a, Harness.operatorKey)
            #expect(try await Self.principal(pair.b, Harness.clientKey).tenantLimit == 6000)
            _ = try await pair.a.tenants.update("test-tenant", plan: "free", name: nil, rateLimitPerMinute: nil, by: operatorKey)
            #expect(try await Self.eventually { try await Self.principal(pair.b, Harness.clientKey).tenantLimit == 60 })
        }
    }

    @Test func aJobSubmittedOnOneInstanceWakesAMinerWaitingOnTheOther() async throws {
        let pair = try await Self.pair()
        try await Self.withSync(pair) {
            let miner = try await Self.principal(pair.b, Harness.minerKey)
            _ = try await pair.b.miners.register(minerID: "gpu-b", capabilities: [:], concurrency: 1, region: nil, by: miner)
            let waiting = Task { try await pair.b.miners.poll(minerID: "gpu-b", maxWaitSeconds: 5, by: miner) }
            try await Task.sleep(for: .milliseconds(50))
            let client = try await Self.principal(pair.a, Harness.clientKey)
            let started = ContinuousClock.now
            let (job, _) = try await pair.a.jobs.submit(
                payload: ["task": "x"], constraints: nil, ttlSeconds: nil, idempotencyKey: nil, by: client)
            let received = try await waiting.value
            #expect(received?.id == job.id)
            // Well before the poll's own 5 s end: the event woke it (generous for a loaded machine).
            #expect(ContinuousClock.now - started < .seconds(4))
            // A sees it running on B's miner.
            #expect(try await pair.a.jobs.get(job.id, by: client).assignedMinerID == "gpu-b")
        }
    }

    @Test func minersOnBothInstancesGetEachJobExactlyOnce() async throws {
        let pair = try await Self.pair()
        try await Self.withSync(pair) {
            let client = try await Self.principal(pair.a, Harness.clientKey)
            var minerPrincipals: [(Coordinator, Principal, String)] = []
            for (index, coordinator) in [pair.a, pair.b, pair.a, pair.b].enumerated() {
                let principal = try await Self.principal(coordinator, Harness.minerKey)
                _ = try await coordinator.miners.register(
                    minerID: "gpu-\(index)", capabilities: [:], concurrency: 2, region: nil, by: principal)
                minerPrincipals.append((coordinator, principal, "gpu-\(index)"))
            }
            let total = 200
            // Miners work until all are done (or a minute passes: then jobs were lost, and the counts fail).
            let finished = Tally()
            let deadline = ContinuousClock.now + .seconds(60)
            let completed = try await withThrowingTaskGroup(of: [String].self) { group in
                for (coordinator, principal, minerID) in minerPrincipals {
                    group.addTask {
                        var done: [String] = []
                        while finished.count < total, ContinuousClock.now < deadline {
                            guard let job = try await coordinator.miners.poll(minerID: minerID, maxWaitSeconds: 0.2, by: principal)
                            else { continue }
                            _ = try await coordinator.miners.complete(
                                job.id, minerID: minerID, result: ["ok": true], metrics: nil, by: principal)
                            done.append(job.id)
                            finished.add()
                        }
                        return done
                    }
                }
                for index in 0..<total {
                    let coordinator = index % 2 == 0 ? pair.a : pair.b
                    let principal = try await Self.principal(coordinator, Harness.clientKey)
                    _ = try await coordinator.jobs.submit(
                        payload: ["n": .int(index)], constraints: nil, ttlSeconds: nil, idempotencyKey: nil, by: principal)
                }
                var all: [String] = []
                for try await done in group { all += done }
                return all
            }
            #expect(completed.count == total)
            #expect(Set(completed).count == total)
            _ = client
            let stats = try await pair.a.jobs.statistics(by: try await Self.principal(pair.a, Harness.masterKey))
            #expect(stats.0.byState[.completed] == total)
        }
    }

    @Test func reconciliationCatchesJobsWhoseEventsWereLost() async throws {
        let pair = try await Self.pair()
        try await Self.withSync(pair) {
            let miner = try await Self.principal(pair.b, Harness.minerKey)
            _ = try await pair.b.miners.register(minerID: "gpu-b", capabilities: [:], concurrency: 1, region: nil, by: miner)
            pair.hub.setDropping(true)
            let client = try await Self.principal(pair.a, Harness.clientKey)
            let (job, _) = try await pair.a.jobs.submit(
                payload: ["lost": true], constraints: nil, ttlSeconds: nil, idempotencyKey: nil, by: client)
            #expect(try await pair.b.miners.poll(minerID: "gpu-b", maxWaitSeconds: 0, by: miner) == nil)
            pair.hub.setDropping(false)
            await pair.b.cluster.apply(.resync)
            #expect(try await pair.b.miners.poll(minerID: "gpu-b", maxWaitSeconds: 0, by: miner)?.id == job.id)
        }
    }

    @Test func aRevocationWhoseEventWasLostIsEnforcedAfterTheBusReconnects() async throws {
        let pair = try await Self.pair()
        try await Self.withSync(pair) {
            let master = try await Self.principal(pair.a, Harness.masterKey)
            let issued = try await pair.a.keys.create(NewKeyRequest(name: "missed", role: "client"), by: master)
            _ = try await Self.principal(pair.b, issued.secret)
            pair.hub.setDropping(true)
            _ = try await pair.a.keys.revoke(issued.record.id, by: master)
            // Without the event B still trusts its cache...
            #expect(try await Self.principal(pair.b, issued.secret).key.id == issued.record.id)
            pair.hub.setDropping(false)
            // ...until its bus reconnects and reports that events may have been missed.
            await pair.b.cluster.apply(.resync)
            await #expect(throws: CoordinatorError.revokedKey) { try await Self.principal(pair.b, issued.secret) }
        }
    }

    @Test func aMinerPollingOnOneInstanceIsNotTakenForSilentByTheOther() async throws {
        let pair = try await Self.pair()
        try await Self.withSync(pair) {
            let onA = try await Self.principal(pair.a, Harness.minerKey)
            _ = try await pair.a.miners.register(minerID: "gpu-a", capabilities: [:], concurrency: 1, region: nil, by: onA)
            let client = try await Self.principal(pair.a, Harness.clientKey)
            let (job, _) = try await pair.a.jobs.submit(
                payload: ["x": 1], constraints: nil, ttlSeconds: 3600, idempotencyKey: nil, by: client)
            #expect(try await pair.a.miners.poll(minerID: "gpu-a", maxWaitSeconds: 0, by: onA)?.id == job.id)
            #expect(try await Self.eventually { await pair.b.miners.miner(MinerKey(tenantID: "test-tenant", minerID: "gpu-a")) != nil })
            // The miner keeps polling A for 100 s; B never hears from it directly.
            for _ in 0..<10 {
                pair.clock.advance(by: 10)
                _ = try await pair.a.miners.poll(minerID: "gpu-a", maxWaitSeconds: 0, by: onA)
            }
            let swept = await pair.b.sweeper.sweep()
            #expect(swept.requeued == 0)
            #expect(try await pair.a.jobs.get(job.id, by: client).state == .running)
            // Once it is silent for real, one sweep requeues its job.
            pair.clock.advance(by: 120)
            #expect(await pair.b.sweeper.sweep().requeued == 1)
            #expect(await pair.a.sweeper.sweep().requeued == 0)
            #expect(try await pair.a.jobs.get(job.id, by: client).state == .queued)
        }
    }
}

/// A count shared by concurrent tasks.
private final class Tally: Sendable {
    private let value = Mutex(0)
    var count: Int { value.withLock { $0 } }
    func add() { value.withLock { $0 += 1 } }
}
