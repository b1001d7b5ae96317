import AITBCDomain
import Foundation
import Synchronization
import Testing

/// Slices of shared quota and credit counters (the PostgreSQL mode), against an in-memory authority
/// with the store's semantics: never more admitted than the counter holds, refusals and refunds
/// that find their slice, and changes that end slices.
@Suite struct MeterLeasesTests {
    let start = MeterFixture.start

    func principal(quota: RequestQuota? = nil, credits: KeyCredits? = nil) -> Principal {
        MeterFixture.principal(quota: quota, credits: credits, at: start)
    }

    @Test func threeInstancesOnOneCounterNeverAdmitMoreThanTheQuota() async throws {
        let time = ManualTimeSource(start)
        let authority = MemoryMeterAuthority()
        let instances = (0..<3).map { _ in SpendingMeters(store: authority, time: time, authority: authority) }
        let caller = principal(quota: RequestQuota(perDay: 1000))
        let admitted = await withTaskGroup(of: Int.self) { group in
            for meters in instances {
                group.addTask {
                    var admitted = 0
                    for _ in 0..<500 {
                        if (try? await meters.charge(caller, cost: 1)) != nil { admitted += 1 }
                    }
                    return admitted
                }
            }
            return await group.reduce(0, +)
        }
        let held = instances.compactMap { $0.leases?.heldUnits(.quota(tenantID: "t1", period: .day)) }.reduce(0, +)
        #expect(admitted + held == 1000, "admitted \(admitted), held \(held)")
        for meters in instances { await meters.flush() }
        #expect(authority.value("quota:day:t1") == admitted)
    }

    @Test func aRefundAfterTheSlicesWentBackIsNotLost() async throws {
        let time = ManualTimeSource(start)
        let authority = MemoryMeterAuthority()
        let meters = SpendingMeters(store: authority, time: time, authority: authority)
        let caller = principal(credits: KeyCredits())
        try await meters.setBalance(keyID: "key_a", remaining: 10, refill: nil)
        let charge = try #require(try await meters.charge(caller, cost: 3))
        await meters.flush()
        meters.refund(charge)
        #expect(try await meters.balance(of: caller.key)?.remaining == 10)
        await meters.flush()
        #expect(authority.value("credits:key_a") == 10)
    }

    /// A change of refill alone, on one instance, keeps the balance's setting: the slice another
    /// instance holds stays its own (also when that one leases more under the new refill before it
    /// hears of the change) and goes back to it, the slice held here stays spendable, a charge taken
    /// before the change is refunded, and the new refill comes at its next boundary, not at once.
    @Test func aChangeOfRefillAloneKeepsTheSlicesOfEveryInstance() async throws {
        let time = ManualTimeSource(start)
        let authority = MemoryMeterAuthority()
        let here = SpendingMeters(store: authority, time: time, authority: authority)
        let there = SpendingMeters(store: authority, time: time, authority: authority)
        let caller = principal(credits: KeyCredits())
        let meter = Meter.credits(keyID: "key_a")
        try await here.setBalance(keyID: "key_a", remaining: 1000, refill: nil)
        for _ in 0..<3 { _ = try await there.charge(caller, cost: 1) }
        for _ in 0..<2 { _ = try await here.charge(caller, cost: 1) }
        let charge = try #require(try await here.charge(caller, cost: 1))
        let heldThere = there.leases?.heldUnits(meter) ?? 0
        let heldHere = here.leases?.heldUnits(meter) ?? 0
        #expect(heldThere > 10)
        #expect(heldHere > 10)
        let daily = CreditRefill(amount: 50, interval: .day)
        #expect(try await here.changeRefill(keyID: "key_a", from: nil, to: daily) == 994 - heldThere)
        // There, a request under the new refill: its period start is ahead of the slice's, so it
        // leases, and the slice is kept beside what it took.
        let refilled = principal(credits: KeyCredits(refill: daily))
        _ = try await there.charge(refilled, cost: 1)
        #expect(there.leases?.heldUnits(meter) == heldThere)
        await there.leases?.end(for: .keyChanged(digests: [caller.key.digest]))
        here.refund(charge)
        // The slice held here is spent under the new refill without asking the store.
        let leases = authority.leases
        _ = try await here.charge(refilled, cost: 1)
        #expect(authority.leases == leases)
        await here.flush()
        #expect(authority.value("credits:key_a") == 993)
        // Not refilled at once (an instance holding nothing reads the store); refilled at the next boundary.
        let fresh = SpendingMeters(store: authority, time: time, authority: authority)
        #expect(try await fresh.balance(of: refilled.key)?.remaining == 993)
        time.set(MeterFixture.midnight)
        #expect(try await fresh.balance(of: refilled.key)?.remaining == 50)
    }

    @Test func aKeyChangeGivesItsCreditSlicesBackAndATenantChangeItsQuotaSlices() async throws {
        let time = ManualTimeSource(start)
        let authority = MemoryMeterAuthority()
        let meters = SpendingMeters(store: authority, time: time, authority: authority)
        let caller = principal(quota: RequestQuota(perMonth: 10_000), credits: KeyCredits())
        try await meters.setBalance(keyID: "key_a", remaining: 10_000, refill: nil)
        for _ in 0..<3 { _ = try await meters.charge(caller, cost: 1) }
        let leases = try #require(meters.leases)
        #expect(leases.heldUnits(.credits(keyID: "key_a")) > 0)
        #expect(leases.heldUnits(.quota(tenantID: "t1", period: .month)) > 0)
        await leases.end(for: .keyChanged(digests: [caller.key.digest]))
        #expect(leases.heldUnits(.credits(keyID: "key_a")) == 0)
        // Given back: the balance was not set anew since the slice was leased.
        #expect(authority.value("credits:key_a") == 10_000 - 3)
        await leases.end(for: .tenantChanged(id: "t1"))
        #expect(leases.heldUnits(.quota(tenantID: "t1", period: .month)) == 0)
        #expect(authority.value("quota:month:t1") == 3)
    }

    /// A top-up on this instance waits for the lease under way: the lease's units are the old
    /// balance's and go with its slice; exactly the new balance is admitted after the top-up.
    @Test func aTopUpWaitsForTheLeaseUnderWayAndAdmitsExactlyTheNewBalance() async throws {
        let time = ManualTimeSource(start)
        let authority = MemoryMeterAuthority()
        let pausing = PausingMeterAuthority(authority)
        let meters = SpendingMeters(store: authority, time: time, authority: pausing)
        let caller = principal(credits: KeyCredits())
        try await meters.setBalance(keyID: "key_a", remaining: 1_000, refill: nil)
        // The first charge learns what the balance holds; the next lease asks for a slice of it.
        _ = try await meters.charge(caller, cost: 1)
        pausing.pauseNextLease()
        let underWay = Task { try await meters.charge(caller, cost: 1) }
        await pausing.leaseTaken()
        #expect(authority.value("credits:key_a")! < 999)
        let topUp = Task { try await meters.setBalance(keyID: "key_a", remaining: 10, refill: nil) }
        pausing.resume()
        // Admitted from the old balance, before the top-up.
        _ = try await underWay.value
        try await topUp.value
        var admitted = 0
        while (try? await meters.charge(caller, cost: 1)) != nil { admitted += 1 }
        #expect(admitted == 10, "the top-up set 10 credits; \(admitted) requests were admitted after it")
    }

    /// Another instance tops the balance up while this one's lease, which read the old balance, is
    /// under way, and its key change is told before the lease answers: the lease's units are not
    /// spent, nor added to the new balance (they were up to 255 admitted beyond it).
    @Test func aLeaseOfTheOldBalanceAnsweringAfterATopUpElsewhereAddsNothing() async throws {
        let time = ManualTimeSource(start)
        let authority = MemoryMeterAuthority()
        let pausing = PausingMeterAuthority(authority)
        let meters = SpendingMeters(store: authority, time: time, authority: pausing)
        let leases = try #require(meters.leases)
        let caller = principal(credits: KeyCredits())
        try await meters.setBalance(keyID: "key_a", remaining: 1_000, refill: nil)
        _ = try await meters.charge(caller, cost: 1)
        pausing.pauseNextLease()
        let underWay = Task { try await meters.charge(caller, cost: 1) }
        await pausing.leaseTaken()
        // The other instance's top-up, and the key change it tells.
        try await authority.saveMeterCounts(["credits:key_a": MeterCount(periodStart: 0, value: 10, granted: 10)])
        await leases.end(for: .keyChanged(digests: [caller.key.digest]))
        pausing.resume()
        var admitted = (try? await underWay.value) != nil ? 1 : 0
        while (try? await meters.charge(caller, cost: 1)) != nil { admitted += 1 }
        #expect(admitted == 10, "the top-up set 10 credits; \(admitted) requests were admitted after it")
        #expect(authority.value("credits:key_a") == 0)
    }

    /// Another instance tops the balance up, and this one's lease reads the new balance before the
    /// key change is told here: the lease's units go back to the new balance, none is lost.
    @Test func aLeaseOfTheNewBalanceAnsweringAfterTheKeyChangeIsToldGivesItsUnitsBack() async throws {
        let time = ManualTimeSource(start)
        let authority = MemoryMeterAuthority()
        let pausing = PausingMeterAuthority(authority)
        let meters = SpendingMeters(store: authority, time: time, authority: pausing)
        let leases = try #require(meters.leases)
        let caller = principal(credits: KeyCredits())
        try await meters.setBalance(keyID: "key_a", remaining: 1_000, refill: nil)
        _ = try await meters.charge(caller, cost: 1)
        // The other instance's top-up commits; its key change is not told here yet.
        try await authority.saveMeterCounts(["credits:key_a": MeterCount(periodStart: 0, value: 100, granted: 100)])
        pausing.pauseNextLease()
        let underWay = Task { try await meters.charge(caller, cost: 1) }
        await pausing.leaseTaken()
        #expect(authority.value("credits:key_a")! < 100)
        await leases.end(for: .keyChanged(digests: [caller.key.digest]))
        pausing.resume()
        var admitted = (try? await underWay.value) != nil ? 1 : 0
        while (try? await meters.charge(caller, cost: 1)) != nil { admitted += 1 }
        #expect(admitted == 100, "the top-up set 100 credits; \(admitted) requests were admitted after it")
    }

    /// Unspent units given back at a flush after another instance's top-up (not yet told here) go
    /// nowhere: they were the old balance's.
    @Test func unspentUnitsOfTheOldBalanceDoNotGoBackToANewOne() async throws {
        let time = ManualTimeSource(start)
        let authority = MemoryMeterAuthority()
        let meters = SpendingMeters(store: authority, time: time, authority: authority)
        let leases = try #require(meters.leases)
        let caller = principal(credits: KeyCredits())
        try await meters.setBalance(keyID: "key_a", remaining: 1_000, refill: nil)
        for _ in 0..<2 { _ = try await meters.charge(caller, cost: 1) }
        #expect(leases.heldUnits(.credits(keyID: "key_a")) > 10)
        try await authority.saveMeterCounts(["credits:key_a": MeterCount(periodStart: 0, value: 10, granted: 10)])
        await meters.flush()
        #expect(authority.value("credits:key_a") == 10)
        await leases.end(for: .keyChanged(digests: [caller.key.digest]))
        var admitted = 0
        while (try? await meters.charge(caller, cost: 1)) != nil { admitted += 1 }
        #expect(admitted == 10, "the top-up set 10 credits; \(admitted) requests were admitted after it")
    }
}

/// Lets a test hold one lease's answer after the counter moved (as a PostgreSQL transaction that
/// committed before something else changed the counter, answering late).
final class PausingMeterAuthority: MeterLeaseAuthority {
    let inner: MemoryMeterAuthority
    private let armed = Mutex(false)
    private let taken: AsyncStream<Void>
    private let takenSignal: AsyncStream<Void>.Continuation
    private let proceed: AsyncStream<Void>
    private let proceedSignal: AsyncStream<Void>.Continuation

    init(_ inner: MemoryMeterAuthority) {
        self.inner = inner
        (taken, takenSignal) = AsyncStream.makeStream()
        (proceed, proceedSignal) = AsyncStream.makeStream()
    }

    func pauseNextLease() { armed.withLock { $0 = true } }
    /// Waits until the paused lease has taken its units.
    func leaseTaken() async { for await _ in taken { return } }
    func resume() { proceedSignal.yield() }

    func leaseMeter(
        _ meter: Meter, tenantID: String, kind: MeterKind, periodStart: Int64, want: Int, need: Int, at now: Date
    ) async throws -> MeterGrant {
        let grant = try await inner.leaseMeter(meter, tenantID: tenantID, kind: kind, periodStart: periodStart, want: want, need: need, at: now)
        if armed.withLock({ armed in defer { armed = false }; return armed }) {
            takenSignal.yield()
            for await _ in proceed { break }
        }
        return grant
    }

    func returnMeter(_ name: String, kind: MeterKind, periodStart: Int64, units: Int, generation: Int64) async throws {
        try await inner.returnMeter(name, kind: kind, periodStart: periodStart, units: units, generation: generation)
    }

    func changeMeterRefill(_ meter: Meter, from old: CreditRefill?, to new: CreditRefill?, at now: Date) async throws -> MeterGrant? {
        try await inner.changeMeterRefill(meter, from: old, to: new, at: now)
    }
}

/// Counters with the PostgreSQL store's lease semantics, in a dictionary; counts the leases asked.
final class MemoryMeterAuthority: MeterLeaseAuthority, MeterStore {
    private let rows = Mutex([String: MeterCount]())
    /// Each row's setting: a save (a top-up) makes the next, as on PostgreSQL.
    private let generations = Mutex([String: Int64]())
    private let leaseCount = Mutex(0)

    func value(_ name: String) -> Int? { rows.withLock { $0[name]?.value } }
    /// Leases asked so far (each a transaction on PostgreSQL).
    var leases: Int { leaseCount.withLock { $0 } }

    func leaseMeter(
        _ meter: Meter, tenantID: String, kind: MeterKind, periodStart: Int64, want: Int, need: Int, at now: Date
    ) async throws -> MeterGrant {
        leaseCount.withLock { $0 += 1 }
        let name = meter.storageName
        return rows.withLock { rows in
            var generation = generations.withLock { $0[name] ?? 0 }
            let stored = rows[name]
            var start = stored?.periodStart ?? periodStart
            var value = stored?.value ?? 0
            let available: Int
            switch kind {
            case .quota(let limit):
                if start != periodStart { (start, value) = (periodStart, 0) }
                available = max(0, limit - value)
            case .credits(let refill):
                if let refill, start < periodStart, stored != nil {
                    (start, value) = (periodStart, refill.amount)
                    generation += 1
                    generations.withLock { $0[name] = generation }
                }
                available = max(0, value)
            }
            let granted = available >= need ? min(want, available) : 0
            if case .quota = kind { value += granted } else { value -= granted }
            if stored != nil || { if case .quota = kind { return true } else { return false } }() {
                rows[name] = MeterCount(periodStart: start, value: value)
            }
            return MeterGrant(units: granted, periodStart: start, remainingBeyond: available - granted, generation: generation)
        }
    }

    func returnMeter(_ name: String, kind: MeterKind, periodStart: Int64, units: Int, generation: Int64) async throws {
        rows.withLock { rows in
            let current = generations.withLock { $0[name] ?? 0 }
            if case .credits = kind, generation != current { return }
            guard var row = rows[name] else { return }
            if case .quota = kind, row.periodStart != periodStart { return }
            if case .quota = kind { row.value = max(0, row.value - units) } else { row.value += units }
            rows[name] = row
        }
    }

    func changeMeterRefill(_ meter: Meter, from old: CreditRefill?, to new: CreditRefill?, at now: Date) async throws -> MeterGrant? {
        let name = meter.storageName
        return rows.withLock { rows in
            guard let stored = rows[name] else { return nil }
            let (count, refilled) = stored.refillChanged(from: old, to: new, at: now)
            let generation = generations.withLock { generations in
                if refilled { generations[name, default: 0] += 1 }
                return generations[name] ?? 0
            }
            rows[name] = count
            return MeterGrant(units: 0, periodStart: count.periodStart, remainingBeyond: count.value, generation: generation)
        }
    }

    func meterCounts(_ names: [String]) async throws -> [String: MeterCount] {
        rows.withLock { rows in rows.filter { names.contains($0.key) } }
    }

    func saveMeterCounts(_ counts: [String: MeterCount], events: [WebhookEvent]) async throws {
        // Under the rows' lock, as PostgreSQL's row lock: no lease reads between the two.
        rows.withLock { rows in
            generations.withLock { generations in
                for name in counts.keys where rows[name] != nil { generations[name, default: 0] += 1 }
            }
            rows.merge(counts) { $1 }
        }
    }
}
