import AITBCDomain
@testable import AITBCStorage
import AITBCWire
import Foundation
import PostgresNIO
import Synchronization
import Testing

/// What only the PostgreSQL store has to get right: several stores (instances) on one database
/// at once, and a database that goes away. The shared behaviour is in ``StoreContractTests``.
@Suite(.enabled(if: PostgresTestDatabase.isConfigured, PostgresTestDatabase.skipReason), .freshPostgresDatabases, .timeLimit(.minutes(2)))
struct PostgresStoreTests {
    static let now = Date(timeIntervalSince1970: 1_795_000_000)

    @Test func migrationsAreAppliedOnceWhenFourStoresOpenTogether() async throws {
        let database = try await PostgresDatabaseScope.makeDatabase()
        let stores = try await withThrowingTaskGroup(of: PostgresStore.self) { group in
            for _ in 0..<4 { group.addTask { try await database.open() } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(stores.count == 4)
        let versions = try await database.withConnection { connection in
            try await connection.query("SELECT version FROM schema_migrations ORDER BY version", logger: PostgresTestDatabase.logger)
                .collect().map { try $0.decode(Int.self) }
        }
        // The core's nine, then each feature's (whatever their numbers).
        #expect(Array(versions.prefix(9)) == Array(1...9))
        #expect(versions == PostgresMigrations.all.map(\.version))
        #expect(try await stores[0].insertTenant(Tenant(id: "t1", name: "t1", plan: "free", createdAt: Self.now), event: nil))
        #expect(try await stores[3].tenant(id: "t1")?.name == "t1")
        for store in stores { try await store.close() }
    }

    @Test func sharedBudgetsAdmitExactlyTheLimitOfABurstDecidedInBatches() async throws {
        let database = try await PostgresDatabaseScope.makeDatabase()
        let store = try await database.open()
        let limiter = PostgresRateLimit(store: store)
        let before = store.statistics.operations
        let start = ContinuousClock.now
        // Budgets decided on the database's clock, which the test cannot hold still: 5 a minute for
        // the tenant and 6 for the key refill one request every 12 s and 10 s, far longer than the
        // burst takes, so the counts below are exact.
        let admissions = try await withThrowingTaskGroup(of: SharedAdmission.self) { group in
            for _ in 0..<90 { group.addTask { try await limiter.admit((.tenant("t"), 5), (.key("k"), 6)) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let admitted = admissions.filter(\.decision.admitted)
        #expect(admitted.count == 5)
        // Each admitted request saw its own place in the budget.
        #expect(admitted.map(\.decision.remaining).sorted() == [0, 1, 2, 3, 4])
        let refused = admissions.filter { !$0.decision.admitted }
        #expect(refused.count == 85)
        #expect(refused.allSatisfy { $0.refusedBy == .tenant("t") && $0.decision.retryAfterSeconds >= 1 && $0.decision.limit == 5 })
        // Requests that queued behind a call were decided together.
        #expect(store.statistics.operations - before < 90)
        // Refusals cost nothing: the key's own budget was charged only for the 5 admitted (had the
        // 85 refused been charged too, it would be empty).
        let keyOnly = try await limiter.admit((.key("k"), 6), nil)
        #expect(keyOnly.decision.admitted)
        #expect(keyOnly.decision.remaining == 0)
        #expect(try await !limiter.admit((.key("k"), 6), nil).decision.admitted)
        // The exact counts hold only if no refill fell inside the test.
        #expect(ContinuousClock.now - start < .seconds(10), "the burst took longer than a refill")
        try await store.close()
    }

    @Test func fullBudgetsAreForgottenAndBudgetsInUseAreKept() async throws {
        let store = try await PostgresDatabaseScope.makeDatabase().open()
        let limiter = PostgresRateLimit(store: store)
        // 60,000 a minute refills in a millisecond; 1 a minute stays spent.
        #expect(try await limiter.admit((.address("quick"), 60_000), nil).decision.admitted)
        #expect(try await limiter.admit((.address("slow"), 1), nil).decision.admitted)
        try await Task.sleep(for: .milliseconds(20))
        #expect(try await limiter.forgetFullBudgets() == 1)
        let names = try await store.read { try await $0.rows("SELECT name FROM rate_budgets").map { try $0.decode(String.self) } }
        #expect(names == ["address:slow"])
        #expect(try await !limiter.admit((.address("slow"), 1), nil).decision.admitted)
        try await store.close()
    }

    @Test func forgettingBudgetsWhileTheyAreChargedNeverAdmitsMore() async throws {
        let database = try await PostgresDatabaseScope.makeDatabase()
        let first = try await database.open()
        let second = try await database.open()
        let limiters = [PostgresRateLimit(store: first), PostgresRateLimit(store: second)]
        // Budgets that are full (their rows are there, with nothing outstanding), charged twice each
        // while the janitor deletes full budgets without pause: it must take only rows nobody is
        // charging (the narrow case of a deletion between a charge's insert and its lock is
        // handled by `aitbc_admit`, too narrow to hit here reliably), so each admits exactly once.
        let count = 300
        try await first.read {
            try await $0.rows("INSERT INTO rate_budgets (name, tat, per_minute) SELECT 'key:k' || g, 0, 1 FROM generate_series(0, \(count - 1)) AS g")
        }
        let charging = StillCharging()
        let admitted = try await withThrowingTaskGroup(of: [Int].self) { group in
            group.addTask {
                while charging.isOn { _ = try await limiters[0].forgetFullBudgets() }
                return []
            }
            group.addTask {
                var admitted: [Int] = []
                try await withThrowingTaskGroup(of: Int?.self) { charges in
                    for budget in 0..<count {
                        for limiter in limiters {
                            charges.addTask { try await limiter.admit((.key("k\(budget)"), 1), nil).decision.admitted ? budget : nil }
                        }
                    }
                    for try await budget in charges { if let budget { admitted.append(budget) } }
                }
                charging.end()
                return admitted
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        let twice = Dictionary(grouping: admitted, by: { $0 }).filter { $0.value.count > 1 }.keys.sorted()
        #expect(twice.isEmpty, "admitted twice under a limit of one: \(twice)")
        #expect(admitted.count == count)
        try await first.close()
        try await second.close()
    }

    @Test func attemptBudgetsAreSharedByInstancesAndFallBackToTheirOwnWithoutTheDatabase() async throws {
        let database = try await PostgresDatabaseScope.makeDatabase()
        let first = try await database.open()
        let second = try await database.open()
        let instances = [AttemptBudgets(shared: PostgresRateLimit(store: first)), AttemptBudgets(shared: PostgresRateLimit(store: second))]
        var admitted = 0
        for attempt in 0..<10 {
            if await instances[attempt % 2].charge((.signInAccount("a@example.com"), 5), now: SystemTimeSource().rateInstant()).admitted {
                admitted += 1
            }
        }
        #expect(admitted == 5)
        // Both instances were refused once, and now refuse from memory.
        for budgets in instances {
            #expect(budgets.knownRefusal(.signInAccount("a@example.com"), limit: 5, now: SystemTimeSource().rateInstant()) != nil)
        }
        // Without its database an instance counts on its own: neither an error nor a free-for-all.
        try await second.close()
        var alone = 0
        for _ in 0..<10 {
            if await instances[1].charge((.signInAccount("b@example.com"), 5), now: SystemTimeSource().rateInstant()).admitted { alone += 1 }
        }
        #expect(alone == 5)
        try await first.close()
    }

    @Test func openingAClosedPortFailsWithinThreeSecondsSayingWhy() async throws {
        let port = try Self.closedPort()
        let start = ContinuousClock.now
        do {
            _ = try await PostgresStore.open(url: "postgres://aitbc:secret@127.0.0.1:\(port)/aitbc", logger: PostgresTestDatabase.quietLogger)
            Issue.record("opened a database on a closed port")
        } catch let error as PostgresFailure {
            #expect(error.description.contains("127.0.0.1:\(port)"))
            #expect(error.description.contains("cannot connect"))
            #expect(!error.description.contains("secret"))
        }
        #expect(ContinuousClock.now - start < .seconds(3))
    }

    /// A store (the default timeouts unless `adjust` changes them) on a fresh database holding
    /// tenant `t1`, reached through a relay the test can cut.
    static func storeBehindRelay(
        _ adjust: (inout PostgresStore.Configuration) -> Void = { _ in }
    ) async throws -> (store: PostgresStore, relay: TCPProxy) {
        try await storeBehindRelay(on: try await PostgresDatabaseScope.makeDatabase(), adjust)
    }

    /// A store on `database` whose connections pass through a relay the test can freeze.
    static func storeBehindRelay(
        on database: PostgresTestDatabase, _ adjust: (inout PostgresStore.Configuration) -> Void = { _ in }
    ) async throws -> (store: PostgresStore, relay: TCPProxy) {
        // Set up (migrations, tenant t1) with the suite's patient timeouts: on a loaded machine the
        // defaults measured below could fail the set-up itself.
        let setup = try await database.open()
        _ = try await setup.insertTenant(Tenant(id: "t1", name: "t1", plan: "free", createdAt: Self.now), event: nil)
        try await setup.close()
        var configuration = try database.configuration()
        let relay = TCPProxy(targetPort: configuration.port)
        try relay.start()
        configuration.port = relay.port
        adjust(&configuration)
        var attempts = 0
        while true {
            attempts += 1
            do {
                return (try await PostgresStore.open(configuration: configuration, logger: PostgresTestDatabase.quietLogger).running(), relay)
            } catch where attempts < 3 {
                try await Task.sleep(for: .seconds(1))
            } catch {
                relay.stop()
                throw error
            }
        }
    }

    @Test func callsFailFastAsStorageUnavailableWhileTheDatabaseIsGoneAndRecoverAfter() async throws {
        let (store, proxy) = try await Self.storeBehindRelay()
        defer { proxy.stop() }
        let port = proxy.port
        #expect(await store.isHealthy())

        proxy.stop()
        let start = ContinuousClock.now
        await #expect(throws: StorageError.unavailable) { try await store.tenant(id: "t1") }
        // The 2 s connection wait, and room for a loaded machine: not the pool's minute-long queue.
        #expect(ContinuousClock.now - start < .seconds(6))
        await #expect(throws: StorageError.unavailable) {
            try await store.insertTenant(Tenant(id: "t2", name: "t2", plan: "free", createdAt: Self.now), event: nil)
        }
        #expect(await !store.isHealthy())
        #expect(store.statistics.failures >= 2)

        try proxy.start(port: port)
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline, await !store.isHealthy() { try await Task.sleep(for: .milliseconds(100)) }
        #expect(try await store.tenant(id: "t1")?.name == "t1")
        try await store.close()
    }

    @Test func aDatabaseCutOffByTheNetworkFailsCallsWithinTheQueryTimeoutAndRecovers() async throws {
        let (store, proxy) = try await Self.storeBehindRelay { $0.queryTimeout = .seconds(2) }
        defer { proxy.stop() }

        // Nothing answers and nothing closes: without a deadline the call would wait for TCP to give up.
        proxy.freeze()
        let start = ContinuousClock.now
        await #expect(throws: StorageError.unavailable) { try await store.tenant(id: "t1") }
        // Inside the 2 s connection wait plus the 2 s query timeout, with room for a loaded machine.
        #expect(ContinuousClock.now - start < .seconds(7))
        let writeStart = ContinuousClock.now
        await #expect(throws: StorageError.unavailable) {
            try await store.insertTenant(Tenant(id: "t2", name: "t2", plan: "free", createdAt: Self.now), event: nil)
        }
        #expect(ContinuousClock.now - writeStart < .seconds(7))

        proxy.thaw()
        let deadline = ContinuousClock.now + .seconds(15)
        while ContinuousClock.now < deadline, await !store.isHealthy() { try await Task.sleep(for: .milliseconds(100)) }
        #expect(try await store.tenant(id: "t1")?.name == "t1")
        try await store.close()
    }

    @Test(.enabled(if: PostgresTestDatabase.certificateAuthority != nil, "needs AITBC_TEST_POSTGRES_CA: scripts/postgres makes one when openssl is installed"))
    func connectionsAreEncryptedWhenAskedAndTheCertificateIsChecked() async throws {
        let database = try await PostgresDatabaseScope.makeDatabase()
        let authority = try #require(PostgresTestDatabase.certificateAuthority)
        // Patient timeouts, as for the suite's other stores: a handshake on a loaded machine can take seconds.
        func url(host: String, _ parameters: String) -> String {
            database.url.replacingOccurrences(of: "@127.0.0.1:", with: "@\(host):") + "?connect_timeout=15&query_timeout=15&" + parameters
        }
        func encrypted(_ store: PostgresStore) async throws -> Bool {
            try await store.read {
                try await $0.rows("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").first.map { try $0.decode(Bool.self) }
            } ?? false
        }
        // Checked against the CA, host name included; then the CA only; then encrypted unchecked.
        for address in [
            url(host: "localhost", "sslmode=verify-full&sslrootcert=\(authority)"),
            url(host: "127.0.0.1", "sslmode=verify-ca&sslrootcert=\(authority)"),
            url(host: "127.0.0.1", "sslmode=require"),
        ] {
            let store = try await PostgresStore.open(url: address, logger: PostgresTestDatabase.quietLogger).running()
            #expect(try await encrypted(store), "\(address)")
            _ = try await store.insertTenant(Tenant(id: UUID().uuidString, name: "t", plan: "free", createdAt: Self.now), event: nil)
            try await store.close()
        }
        let plain = try await PostgresStore.open(url: url(host: "127.0.0.1", "sslmode=disable"), logger: PostgresTestDatabase.quietLogger).running()
        #expect(try await !encrypted(plain))
        try await plain.close()
        // A certificate the roots did not sign is refused, saying why, before any password is sent.
        do {
            _ = try await PostgresStore.open(url: url(host: "localhost", "sslmode=verify-full"), logger: PostgresTestDatabase.quietLogger)
            Issue.record("verify-full accepted a certificate the system's roots did not sign")
        } catch let error as PostgresFailure {
            #expect(error.description.contains("localhost"))
            #expect(!error.description.contains("p@ss") && !error.description.contains("p%40ss"))  // the test password
        }
    }

    @Test func aListenerCutOffByTheNetworkListensAnewAndAsksForAResync() async throws {
        let database = try await PostgresDatabaseScope.makeDatabase()
        let (store, relay) = try await Self.storeBehindRelay(on: database) { $0.queryTimeout = .seconds(2) }
        defer { relay.stop() }
        let heard = Heard()
        let bus = PostgresClusterBus(store: store, origin: "cut", logger: PostgresTestDatabase.quietLogger, heartbeat: .milliseconds(300))
        // The listener runs until the store closes.
        Task { await bus.run() }
        let listening = Task { for await event in bus.events() { heard.append(event) } }
        defer { listening.cancel() }
        try await heard.wait("the first resync") { $0 == [.resync] }

        // Notifications sent now never arrive; only the heartbeat (unanswered for 2 s) can tell.
        relay.freeze()
        try await Task.sleep(for: .seconds(4))
        relay.thaw()
        // It listens anew (a resync is reported once LISTEN has succeeded) and says that events may have been missed.
        try await heard.wait("a resync after the cut") { $0.filter { $0 == .resync }.count >= 2 }
        // And it hears another instance (its own connection, untouched by the cut) again: one
        // event, sent once, arrives.
        let otherStore = try await database.open()
        let other = PostgresClusterBus(store: otherStore, origin: "other", logger: PostgresTestDatabase.quietLogger)
        await other.publish(.tenantChanged(id: "t9"))
        try await heard.wait("another instance's event", within: .seconds(5)) { $0.contains(.tenantChanged(id: "t9")) }
        try await otherStore.close()
        try await store.close()
    }

    @Test func aNotificationThatFailsIsSentAgainAndHeardByTheOtherInstances() async throws {
        let database = try await PostgresDatabaseScope.makeDatabase()
        let (listeningStore, publishingStore) = (try await database.open(), try await database.open())
        let listener = PostgresClusterBus(store: listeningStore, origin: "listener", logger: PostgresTestDatabase.quietLogger)
        // The listener runs until its store closes.
        Task { await listener.run() }
        // The first two sends fail, as they do while the database is briefly unavailable.
        let failuresLeft = Mutex(2)
        let publisher = PostgresClusterBus(
            store: publishingStore, origin: "publisher", logger: PostgresTestDatabase.quietLogger,
            notify: { payload in
                let fail = failuresLeft.withLock { left in
                    defer { left = max(0, left - 1) }
                    return left > 0
                }
                if fail { throw StorageError.unavailable }
                try await PostgresClusterBus.notify(payload, through: publishingStore)
            })
        let revoked = ClusterEvent.keyChanged(digests: [APIKeyDigest(of: "revoked-key")])
        do {
            let events = listener.events()
            var iterator = events.makeAsyncIterator()
            #expect(await iterator.next() == .resync)  // listening
            await publisher.publish(revoked)
            #expect(failuresLeft.withLock { $0 } == 0)
            #expect(await Self.firstEvent(of: events, within: .seconds(10)) == revoked)
        }
        // Closing the listening store ends its listener.
        try await publishingStore.close()
        try await listeningStore.close()
    }

    /// The first event other than a resync that `events` yields within `limit`, or nil.
    static func firstEvent(of events: AsyncStream<ClusterEvent>, within limit: Duration) async -> ClusterEvent? {
        await withTaskGroup(of: ClusterEvent?.self) { group in
            group.addTask {
                for await event in events where event != .resync { return event }
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            return await group.next() ?? nil
        }
    }

    @Test func theQueryTimeoutBoundsEachStatementNotTheWholeCall() async throws {
        // A bound of 3 s (2.4 s on the server): room for a loaded machine around each 1 s statement.
        let (store, relay) = try await Self.storeBehindRelay { $0.queryTimeout = .seconds(3) }
        defer { relay.stop() }
        // Four answers 1 s apart: 4 s in all, more than the bound, each well inside it.
        let answers = try await store.transaction { session in
            var answers = 0
            for _ in 0..<4 { answers += try await session.rows("SELECT pg_sleep(1)").count }
            return answers
        }
        #expect(answers == 4)
        // One statement the database takes longer over than the timeout: it gives up too.
        await #expect(throws: StorageError.unavailable) { try await store.read { try await $0.rows("SELECT pg_sleep(8)") } }
        #expect(try await store.tenant(id: "t1")?.name == "t1")
        try await store.close()
    }

    @Test func queryTimeoutIsReadFromTheURLAndGivenToTheServer() async throws {
        #expect(try PostgresStore.Configuration(url: "postgres://a@h/d").queryTimeout == .seconds(5))
        #expect(try PostgresStore.Configuration(url: "postgres://a@h/d?query_timeout=30").queryTimeout == .seconds(30))
        #expect(throws: (any Error).self) { try PostgresStore.Configuration(url: "postgres://a@h/d?query_timeout=0") }
        let store = try await PostgresDatabaseScope.makeDatabase().open()
        let setting = try await store.read { try await $0.rows("SHOW statement_timeout").first.map { try $0.decode(String.self) } }
        #expect(setting == "12s")  // 80 % of the 15 s the tests' stores use
        try await store.close()
    }

    @Test func textWithNULIsABadRequestAndNoLookupMatchesIt() async throws {
        let store = try await PostgresDatabaseScope.makeDatabase().open()
        _ = try await store.insertTenant(Tenant(id: "t1", name: "t1", plan: "free", createdAt: Self.now), event: nil)
        #expect(try await store.key(id: "key_\u{0}x") == nil)
        #expect(try await store.tenant(id: "t\u{0}") == nil)
        await #expect {
            try await store.insertKey(Self.master("key_n", tenant: "t1", name: "a\u{0}b"), event: Self.event("t1", "key_n"))
        } throws: { error in
            (error as? StorageError) == .unstorableText && (error as? StorageError)?.coordinatorError.code == .invalidRequest
        }
        #expect(try await store.key(id: "key_n") == nil)
        try await store.close()
    }

    @Test func instantsKeepTheMillisecondAsSQLiteDoes() async throws {
        let store = try await PostgresDatabaseScope.makeDatabase().open()
        let created = Date(timeIntervalSince1970: 1_795_000_000.123_456)
        _ = try await store.insertTenant(Tenant(id: "t1", name: "t1", plan: "free", createdAt: created), event: nil)
        let read = try #require(try await store.tenant(id: "t1"))
        #expect(read.createdAt == Date(unixMilliseconds: created.unixMilliseconds))
        #expect(read.createdAt.unixMilliseconds == 1_795_000_000_123)
        try await store.close()
    }

    static func master(_ id: String, tenant: String, name: String = "master") -> APIKeyRecord {
        APIKeyRecord(
            id: id, tenantID: tenant, name: name, role: .master, scopes: nil, digest: APIKeyDigest(of: "secret-\(id)"),
            hint: "h", createdAt: now)
    }

    static func event(_ tenant: String, _ target: String) -> AuditEvent {
        AuditEvent(id: "evt_\(UUID().uuidString)", kind: .keyRevoked, tenantID: tenant, actorKeyID: nil, targetID: target, createdAt: now)
    }

    /// A loopback port nothing listens on.
    static func closedPort() throws -> Int {
        let proxy = TCPProxy(targetPort: 1)
        try proxy.start()
        let port = proxy.port
        proxy.stop()
        return port
    }
}

/// Whether the charges of ``PostgresStoreTests/forgettingBudgetsWhileTheyAreChargedNeverAdmitsMore()`` still run.
private final class StillCharging: Sendable {
    private let state = Mutex(true)
    var isOn: Bool { state.withLock { $0 } }
    func end() { state.withLock { $0 = false } }
}

/// The events a test's listener heard, in order.
private final class Heard: Sendable {
    private let events = Mutex<[ClusterEvent]>([])

    func append(_ event: ClusterEvent) { events.withLock { $0.append(event) } }

    /// Waits up to `limit` for what was heard to satisfy `condition` (asked every 20 ms).
    func wait(_ what: String, within limit: Duration = .seconds(20), until condition: ([ClusterEvent]) -> Bool) async throws {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if condition(events.withLock({ $0 })) { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("waited in vain for \(what); heard \(events.withLock { $0 })")
    }
}
