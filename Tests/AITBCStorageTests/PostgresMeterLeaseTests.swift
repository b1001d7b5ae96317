import AITBCDomain
@testable import AITBCStorage
import Foundation
import Synchronization
import Testing

/// Quota and credit counters leased from a live PostgreSQL by three instances (each its own store
/// on one database): together they admit exactly the quota and exactly the credits, never more,
/// what one gives back another admits, and a refusal remembered in memory ends when a top-up made
/// through another instance is heard.
@Suite(.enabled(if: PostgresTestDatabase.isConfigured, PostgresTestDatabase.skipReason), .freshPostgresDatabases, .timeLimit(.minutes(2)))
struct PostgresMeterLeaseTests {
    static let start = Date(timeIntervalSince1970: 1_795_000_000)

    static func instances(_ count: Int, time: ManualTimeSource) async throws -> [(store: PostgresStore, meters: SpendingMeters)] {
        let database = try await PostgresDatabaseScope.makeDatabase()
        var instances: [(store: PostgresStore, meters: SpendingMeters)] = []
        for _ in 0..<count {
            let store = try await database.open()
            instances.append((store, SpendingMeters(store: store, time: time, authority: store)))
        }
        return instances
    }

    static func principal(quota: RequestQuota?, credits: KeyCredits?) -> Principal {
        Principal(
            key: APIKeyRecord(
                id: "key_a", tenantID: "t1", name: "a", role: .client, scopes: nil, digest: APIKeyDigest(of: "a"), hint: "",
                createdAt: start, credits: credits),
            tenant: Tenant(id: "t1", name: "t1", plan: "free", createdAt: start), tenantLimit: 1000, quota: quota)
    }

    /// The balance of the callers' key `key_a`.
    static let balance = Meter.credits(keyID: "key_a")

    /// What the shared store holds of `key_a`'s balance beyond every lease.
    static func stored(_ instances: [(store: PostgresStore, meters: SpendingMeters)]) async throws -> Int? {
        try await instances[0].store.meterCounts([balance.storageName])[balance.storageName]?.value
    }

    /// Sets `key_a`'s balance to 1,000 through the first instance and spends `spent` of it through
    /// the second, which then holds a slice of it: the units that slice holds.
    static func sliceHeldElsewhere(_ instances: [(store: PostgresStore, meters: SpendingMeters)], spent: Int) async throws -> Int {
        try await instances[0].meters.setBalance(keyID: "key_a", remaining: 1000, refill: nil)
        let caller = principal(quota: nil, credits: KeyCredits())
        for _ in 0..<spent { _ = try await instances[1].meters.charge(caller, cost: 1) }
        return instances[1].meters.leases?.heldUnits(balance) ?? 0
    }

    /// Requests from two tasks per instance until every one is refused; the number admitted.
    static func hammer(_ instances: [(store: PostgresStore, meters: SpendingMeters)], _ caller: Principal, attempts: Int) async throws -> Int {
        try await withThrowingTaskGroup(of: Int.self) { group in
            for instance in instances {
                for _ in 0..<2 {
                    group.addTask {
                        var admitted = 0
                        for _ in 0..<attempts {
                            do {
                                if try await instance.meters.charge(caller, cost: 1) != nil { admitted += 1 }
                            } catch let error as CoordinatorError where error.code == .quotaExceeded || error.code == .creditsExhausted {}
                        }
                        return admitted
                    }
                }
            }
            return try await group.reduce(0, +)
        }
    }

    /// An instance whose clock is still in yesterday when another has begun today leases nothing
    /// and leaves today's count as it is (it used to reset it to yesterday, with 0 used).
    @Test func aLaggingClockNeverResetsTheNextPeriodsCount() async throws {
        let time = ManualTimeSource(Self.start)
        let instances = try await Self.instances(2, time: time)
        let meter = Meter.quota(tenantID: "t1", period: .day)
        let today = QuotaPeriod.day.start(containing: Self.start)
        let yesterday = today - 86_400
        let ahead = try await instances[0].store.leaseMeter(
            meter, tenantID: "t1", kind: .quota(limit: 100), periodStart: today, want: 40, need: 1, at: Self.start)
        #expect(ahead.units == 40)
        let behind = try await instances[1].store.leaseMeter(
            meter, tenantID: "t1", kind: .quota(limit: 100), periodStart: yesterday, want: 40, need: 1, at: Self.start)
        #expect(behind.units == 0)
        let again = try await instances[0].store.leaseMeter(
            meter, tenantID: "t1", kind: .quota(limit: 100), periodStart: today, want: 100, need: 1, at: Self.start)
        #expect(again.units == 60, "today's 40 are still counted")
        #expect(again.periodStart == today)
        for instance in instances { try await instance.store.close() }
    }

    @Test func threeInstancesAdmitExactlyTheQuotaNeverMore() async throws {
        let time = ManualTimeSource(Self.start)
        let instances = try await Self.instances(3, time: time)
        let caller = Self.principal(quota: RequestQuota(perDay: 500), credits: nil)
        let admitted = try await Self.hammer(instances, caller, attempts: 400)
        let meter = Meter.quota(tenantID: "t1", period: .day)
        let held = instances.compactMap { $0.meters.leases?.heldUnits(meter) }.reduce(0, +)
        #expect(admitted + held == 500, "admitted \(admitted), held \(held)")
        // What the others give back, the last one admits (once it asks the store again after
        // refusing from memory): exactly the quota in the end.
        for instance in instances.dropLast() { await instance.meters.flush() }
        time.advance(by: MeterRefusals.recheckSeconds)
        var more = 0
        while (try? await instances[2].meters.charge(caller, cost: 1)) != nil { more += 1 }
        #expect(admitted + more == 500)
        for instance in instances { try await instance.store.close() }
    }

    @Test func threeInstancesSpendExactlyTheCreditsAndATopUpEndsOldSlices() async throws {
        let time = ManualTimeSource(Self.start)
        let instances = try await Self.instances(3, time: time)
        let caller = Self.principal(quota: nil, credits: KeyCredits())
        try await instances[0].meters.setBalance(keyID: "key_a", remaining: 300, refill: nil)
        let admitted = try await Self.hammer(instances, caller, attempts: 300)
        let meter = Meter.credits(keyID: "key_a")
        let held = instances.compactMap { $0.meters.leases?.heldUnits(meter) }.reduce(0, +)
        #expect(admitted + held == 300, "admitted \(admitted), held \(held)")
        for instance in instances { await instance.meters.flush() }
        time.advance(by: MeterRefusals.recheckSeconds)
        var more = 0
        while (try? await instances[1].meters.charge(caller, cost: 1)) != nil { more += 1 }
        #expect(admitted + more == 300)

        // A top-up sets the balance: slices held elsewhere end (as the key-change event does) and are not added to it.
        try await instances[0].meters.setBalance(keyID: "key_a", remaining: 1000, refill: nil)
        for _ in 0..<2 { _ = try await instances[2].meters.charge(caller, cost: 1) }
        #expect(instances[2].meters.leases?.heldUnits(meter) ?? 0 > 10)
        try await instances[0].meters.setBalance(keyID: "key_a", remaining: 5, refill: nil)
        await instances[2].meters.leases?.end(for: .keyChanged(digests: [caller.key.digest]))
        let afterTopUp = try await Self.hammer(instances, caller, attempts: 10)
        #expect(afterTopUp == 5)
        for instance in instances { try await instance.store.close() }
    }

    /// A balance's unspent units go back only to the setting they were leased from: in full after a
    /// key change that set nothing (a rename), not at all after a top-up through another instance,
    /// even when this one gives them back before it hears of the top-up.
    @Test func unspentCreditsGoBackOnlyToTheBalanceTheyWereLeasedFrom() async throws {
        let time = ManualTimeSource(Self.start)
        let instances = try await Self.instances(2, time: time)
        let caller = Self.principal(quota: nil, credits: KeyCredits())
        let meter = Self.balance
        func stored() async throws -> Int? { try await Self.stored(instances) }
        #expect(try await Self.sliceHeldElsewhere(instances, spent: 2) > 10)
        await instances[1].meters.leases?.end(for: .keyChanged(digests: [caller.key.digest]))
        #expect(instances[1].meters.leases?.heldUnits(meter) == 0)
        #expect(try await stored() == 998)

        for _ in 0..<2 { _ = try await instances[1].meters.charge(caller, cost: 1) }
        #expect(instances[1].meters.leases?.heldUnits(meter) ?? 0 > 10)
        try await instances[0].meters.setBalance(keyID: "key_a", remaining: 5, refill: nil)
        await instances[1].meters.flush()
        #expect(try await stored() == 5)
        await instances[1].meters.leases?.end(for: .keyChanged(digests: [caller.key.digest]))
        #expect(try await Self.hammer(instances, caller, attempts: 10) == 5)
        for instance in instances { try await instance.store.close() }
    }

    /// A change of refill alone keeps the shared balance's setting: the slice another instance
    /// leased goes back to it, and it is not refilled at once. A refill is the next setting: a slice
    /// leased before it, given back after, adds nothing to the refilled balance.
    @Test func aChangeOfRefillAloneKeepsTheSlicesAndARefillEndsThem() async throws {
        let time = ManualTimeSource(Self.start)
        let instances = try await Self.instances(2, time: time)
        let caller = Self.principal(quota: nil, credits: KeyCredits())
        let meter = Self.balance
        func stored() async throws -> Int? { try await Self.stored(instances) }
        let held = try await Self.sliceHeldElsewhere(instances, spent: 3)
        #expect(held > 10)
        let daily = CreditRefill(amount: 50, interval: .day)
        #expect(try await instances[0].meters.changeRefill(keyID: "key_a", from: nil, to: daily) == 997 - held)
        await instances[1].meters.leases?.end(for: .keyChanged(digests: [caller.key.digest]))
        #expect(try await stored() == 997)
        let refilled = Self.principal(quota: nil, credits: KeyCredits(refill: daily))
        #expect(try await instances[0].meters.balance(of: refilled.key)?.remaining == 997)

        for _ in 0..<2 { _ = try await instances[1].meters.charge(refilled, cost: 1) }
        #expect(instances[1].meters.leases?.heldUnits(meter) ?? 0 > 10)
        time.set(Date(timeIntervalSince1970: 1_795_046_400))
        #expect(try await instances[0].meters.balance(of: refilled.key)?.remaining == 50)
        await instances[1].meters.flush()
        #expect(try await stored() == 50)
        #expect(try await Self.hammer(instances, refilled, attempts: 30) == 50)
        for instance in instances { try await instance.store.close() }
    }

    @Test func aRefillOnTheInjectedClockSetsTheSharedBalance() async throws {
        let time = ManualTimeSource(Self.start)
        let instances = try await Self.instances(2, time: time)
        let refill = CreditRefill(amount: 4, interval: .day)
        let caller = Self.principal(quota: nil, credits: KeyCredits(refill: refill))
        try await instances[0].meters.setBalance(keyID: "key_a", remaining: 1, refill: refill)
        #expect(try await Self.hammer(instances, caller, attempts: 3) == 1)
        time.set(Date(timeIntervalSince1970: 1_795_046_400))
        #expect(try await Self.hammer(instances, caller, attempts: 5) == 4)
        for instance in instances { try await instance.store.close() }
    }

    @Test func aTopUpThroughAnotherInstanceEndsTheRefusalRememberedHereWhenItsNotifyArrives() async throws {
        let time = ManualTimeSource(Self.start)
        let instances = try await Self.instances(2, time: time)
        let (here, there) = (instances[0], instances[1])
        let hereLeases = try #require(here.meters.leases)
        let listener = PostgresClusterBus(store: here.store, origin: "here", logger: PostgresTestDatabase.quietLogger)
        Task { await listener.run() }
        let hereBus = LeaseEndingBus(bus: listener, leases: hereLeases)
        let thereBus = LeaseEndingBus(
            bus: PostgresClusterBus(store: there.store, origin: "there", logger: PostgresTestDatabase.quietLogger),
            leases: try #require(there.meters.leases))
        // This instance applies what it hears, as the coordinator's cluster sync does.
        let heard = Mutex<[ClusterEvent]>([])
        let hearing = Task { for await event in hereBus.events() { heard.withLock { $0.append(event) } } }
        try await Self.waitFor("listening") { heard.withLock { $0.contains(.resync) } }

        let caller = Self.principal(quota: nil, credits: KeyCredits())
        let meter = Meter.credits(keyID: "key_a")
        try await there.meters.setBalance(keyID: "key_a", remaining: 1, refill: nil)
        _ = try await here.meters.charge(caller, cost: 1)
        await #expect(throws: CoordinatorError.self) { _ = try await here.meters.charge(caller, cost: 1) }
        #expect(hereLeases.refusals.isRemembered(meter))

        try await there.meters.setBalance(keyID: "key_a", remaining: 3, refill: nil)
        await thereBus.publish(.keyChanged(digests: [caller.key.digest]))
        try await Self.waitFor("the top-up heard") { heard.withLock { $0.contains(.keyChanged(digests: [caller.key.digest])) } }
        #expect(!hereLeases.refusals.isRemembered(meter))
        for _ in 0..<3 { #expect(try await here.meters.charge(caller, cost: 1) != nil) }
        hearing.cancel()
        for instance in instances { try await instance.store.close() }
    }

    /// Waits up to 10 s for `condition`.
    static func waitFor(_ what: String, _ condition: () -> Bool) async throws {
        for _ in 0..<1000 where !condition() { try await Task.sleep(for: .milliseconds(10)) }
        #expect(condition(), "\(what)")
    }
}
