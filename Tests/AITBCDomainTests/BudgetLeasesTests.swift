import AITBCDomain
import AITBCWire
import Foundation
import Testing

/// Budget leases on a hand-moved clock against an authority in memory: slices sized by the observed
/// rate, top-ups that charge nothing when refused, an honest remaining, and leases that end.
@Suite struct BudgetLeasesTests {
    let start = Date(timeIntervalSince1970: 1_795_000_000)

    /// Admits one request of `budgets` now and lets any renewal it started settle.
    func admit(_ leases: BudgetLeases, _ first: (BudgetKey, Int), _ second: (BudgetKey, Int)? = nil, time: ManualTimeSource)
        async throws -> SharedAdmission
    {
        let admission = try await leases.admit(first, second, now: time.rateInstant())
        await leases.aheadSettled()
        return admission
    }

    @Test func slicesGrowWithTheObservedRateAndAreOneForSmallLimits() async throws {
        let time = ManualTimeSource(start)
        let authority = MemoryLeaseAuthority()
        let leases = BudgetLeases(authority: authority, time: time)
        // 12 a minute: every request is its own statement of one unit, as without leases.
        for _ in 0..<12 {
            #expect(try await admit(leases, (.tenant("small"), 12), time: time).decision.admitted)
            time.advance(by: 0.001)
        }
        #expect(try await !admit(leases, (.tenant("small"), 12), time: time).decision.admitted)
        #expect(authority.leases.count == 13)
        #expect(authority.leases.allSatisfy { $0.budgets.allSatisfy { $0.extra == 0 } && $0.requests == 1 })
        // 6,400,000 a minute spent at 1,000 a second: slices grow to a quarter second of that rate.
        let before = authority.leases.count
        var statements = 0
        for index in 0..<2000 {
            if index == 1000 { statements = leases.statements }
            #expect(try await admit(leases, (.tenant("busy"), 6_400_000), time: time).decision.admitted)
            time.advance(by: 0.001)
        }
        let slices = authority.leases.dropFirst(before).flatMap { $0.budgets.map { $0.extra } }
        #expect(slices.first == 0, "no rate observed yet")
        #expect((slices.max() ?? 0) >= 200 && (slices.max() ?? 0) <= 260, "\(slices)")
        let steady = leases.statements - statements
        #expect(steady <= 1000 / 20, "\(steady) statements for the last 1000 requests")
        // At most a 64th of the limit, however busy.
        for _ in 0..<500 {
            _ = try await admit(leases, (.tenant("capped"), 6400), time: time)
            time.advance(by: 0.001)
        }
        #expect(authority.leases.flatMap(\.budgets).filter { $0.key == .tenant("capped") }.allSatisfy { $0.extra <= 100 })
    }

    @Test func aRequestWhoseTopUpIsRefusedChargesNeitherBudget() async throws {
        let time = ManualTimeSource(start)
        let authority = MemoryLeaseAuthority(rooms: [.key("k"): 0])
        let leases = BudgetLeases(authority: authority, time: time)
        for _ in 0..<400 {
            _ = try await admit(leases, (.tenant("t"), 6_400_000), time: time)
            time.advance(by: 0.001)
        }
        let held = leases.units(.tenant("t"))
        let room = try #require(authority.room(.tenant("t")))
        #expect(held > 0)
        let refused = try await admit(leases, (.tenant("t"), 6_400_000), (.key("k"), 60), time: time)
        #expect(!refused.decision.admitted)
        #expect(refused.refusedBy == .key("k"))
        // The tenant's unit it held was not spent, and nothing more was charged to either budget.
        #expect(leases.units(.tenant("t")) == held)
        #expect(authority.room(.tenant("t")) == room)
        #expect(authority.room(.key("k")) == 0)
        #expect(authority.leases.last?.budgets.map(\.have) == [1, 0])
    }

    @Test func remainingPromisesNoMoreThanTheInstanceCanAdmit() async throws {
        let time = ManualTimeSource(start)
        // Another instance took all but 150 of the budget.
        let authority = MemoryLeaseAuthority(rooms: [.tenant("t"): 150])
        let leases = BudgetLeases(authority: authority, time: time)
        var promised: Int?
        var admitted = 0
        while true {
            let admission = try await admit(leases, (.tenant("t"), 6400), time: time)
            time.advance(by: 0.001)
            guard admission.decision.admitted else { break }
            if promised == nil { promised = admission.decision.remaining } else { admitted += 1 }
            #expect(admission.decision.remaining == leases.units(.tenant("t")) + (authority.room(.tenant("t")) ?? 0))
        }
        // What the first answer promised is exactly what was admitted after it.
        #expect(promised == 149)
        #expect(admitted == promised)
    }

    @Test func aLeaseEndsAndItsUnitsGoBackOnAChangeAndOnExpiry() async throws {
        let time = ManualTimeSource(start)
        let authority = MemoryLeaseAuthority()
        let leases = BudgetLeases(authority: authority, time: time)
        func warm(_ budget: BudgetKey, limit: Int) async throws -> Int {
            for _ in 0..<400 {
                _ = try await admit(leases, (.tenant("t"), 640_000), (budget, limit), time: time)
                time.advance(by: 0.001)
            }
            return leases.units(budget)
        }
        // A revocation (or a key's limit changed) ends key leases; the tenant's stays.
        let keyUnits = try await warm(.key("k"), limit: 640_000)
        #expect(keyUnits > 0)
        let tenantUnits = leases.units(.tenant("t"))
        await leases.end(for: .keyChanged(digests: [APIKeyDigest(of: "k")]))
        #expect(leases.units(.key("k")) == 0)
        #expect(leases.units(.tenant("t")) == tenantUnits)
        #expect(authority.returns.last == LeaseReturn(key: .key("k"), units: keyUnits, tatUnixNanoseconds: 0))
        // A plan change told by another instance ends the tenant's lease.
        _ = try await warm(.key("k2"), limit: 640_000)
        let held = leases.units(.tenant("t"))
        await leases.end(for: .tenantChanged(id: "t"))
        #expect(leases.units(.tenant("t")) == 0)
        #expect(authority.returns.last == LeaseReturn(key: .tenant("t"), units: held, tatUnixNanoseconds: 0))
        // A request under the new limit gives back a lease charged under the old one before asking.
        let again = try await warm(.key("k2"), limit: 640_000)
        #expect(again > 0)
        _ = try await admit(leases, (.tenant("t"), 640_000), (.key("k2"), 60), time: time)
        let last = authority.log.suffix(2)
        #expect(last.first == .giveBack([LeaseReturn(key: .key("k2"), units: again, tatUnixNanoseconds: 0)]))
        // A lease not renewed within its lifetime goes back.
        let idle = leases.units(.tenant("t"))
        #expect(idle > 0)
        await leases.endExpired(now: time.monotonicNanoseconds())
        #expect(leases.units(.tenant("t")) == idle)
        time.advance(by: 1.01)
        await leases.endExpired(now: time.monotonicNanoseconds())
        #expect(leases.units(.tenant("t")) == 0)
        #expect(authority.returns.contains(LeaseReturn(key: .tenant("t"), units: idle, tatUnixNanoseconds: 0)))
    }

    @Test func whatIsLeasedIsSpentWhileTheStoreIsDownThen503() async throws {
        let time = ManualTimeSource(start)
        let authority = MemoryLeaseAuthority()
        let budgets = RequestBudgets(shared: authority, usage: UsageRecorder(), time: time)
        let leases = try #require(budgets.leases)
        let caller = Principal(
            key: APIKeyRecord(
                id: "key_a", tenantID: "t1", name: "a", role: .client, scopes: nil, digest: APIKeyDigest(of: "a"), hint: "",
                createdAt: start),
            tenant: Tenant(id: "t1", name: "t1", plan: "pro", createdAt: start), tenantLimit: 640_000)
        for _ in 0..<400 {
            _ = try await budgets.admit(caller, from: nil)
            await leases.aheadSettled()
            time.advance(by: 0.001)
        }
        authority.setDown(true)
        let held = leases.units(.tenant("t1"))
        #expect(held > 0)
        for _ in 0..<held { _ = try await budgets.admit(caller, from: nil) }
        await leases.aheadSettled()
        let refusal = try await #require(throws: CoordinatorError.self) { try await budgets.admit(caller, from: nil) }
        #expect(refusal == .storageUnavailable)
    }
}
