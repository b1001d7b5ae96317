import AITBCDomain
import AITBCWire
import Foundation
import Testing

/// A quota or balance the shared store found spent is refused from memory (PostgreSQL mode), so a
/// flood past it costs no lease transaction; the period's end, a refill, a change to the tenant or
/// key (here or heard of), units given back and the recheck interval each make the store decide again.
@Suite struct MeterRefusalsTests {
    static let lateEvening = MeterFixture.lateEvening
    static let midnight = MeterFixture.midnight

    func principal(quota: RequestQuota? = nil, credits: KeyCredits? = nil) -> Principal {
        MeterFixture.principal(quota: quota, credits: credits, at: Self.lateEvening)
    }

    func refusal(_ meters: SpendingMeters, _ caller: Principal, cost: Int = 1) async -> ErrorCode? {
        do {
            _ = try await meters.charge(caller, cost: cost)
            return nil
        } catch let error as CoordinatorError {
            return error.code
        } catch {
            return .internalError
        }
    }

    @Test func aSpentQuotaIsRefusedFromMemoryUntilItsPeriodEnds() async throws {
        let time = ManualTimeSource(Self.lateEvening)
        let authority = MemoryMeterAuthority()
        let meters = SpendingMeters(store: authority, time: time, authority: authority)
        let caller = principal(quota: RequestQuota(perDay: 3))
        for _ in 0..<3 { #expect(await refusal(meters, caller) == nil) }
        #expect(await refusal(meters, caller) == .quotaExceeded)
        let asked = authority.leases
        for _ in 0..<50 { #expect(await refusal(meters, caller) == .quotaExceeded) }
        #expect(authority.leases == asked, "the refusals after the first did not reach the store")
        #expect(try #require(meters.leases).refusals.isRemembered(.quota(tenantID: "t1", period: .day)))

        time.set(Self.midnight)
        #expect(await refusal(meters, caller) == nil, "a new day's quota is asked of the store")
        #expect(authority.leases > asked)
    }

    @Test func aTenantChangeEndsARememberedQuotaRefusal() async throws {
        let time = ManualTimeSource(Self.lateEvening)
        let authority = MemoryMeterAuthority()
        let meters = SpendingMeters(store: authority, time: time, authority: authority)
        _ = try await meters.charge(principal(quota: RequestQuota(perDay: 1)), cost: 1)
        #expect(await refusal(meters, principal(quota: RequestQuota(perDay: 1))) == .quotaExceeded)
        let leases = try #require(meters.leases)
        await leases.end(for: .tenantChanged(id: "other"))
        #expect(leases.refusals.isRemembered(.quota(tenantID: "t1", period: .day)), "another tenant's change keeps it")
        await leases.end(for: .tenantChanged(id: "t1"))
        #expect(!leases.refusals.isRemembered(.quota(tenantID: "t1", period: .day)))
        // The raised quota is the store's to decide, at once.
        #expect(await refusal(meters, principal(quota: RequestQuota(perDay: 5))) == nil)
    }

    @Test func aTopUpOnAnotherInstanceIsSeenOnceItsKeyChangeIsHeard() async throws {
        let time = ManualTimeSource(Self.lateEvening)
        let authority = MemoryMeterAuthority()
        let here = SpendingMeters(store: authority, time: time, authority: authority)
        let there = SpendingMeters(store: authority, time: time, authority: authority)
        let caller = principal(credits: KeyCredits())
        try await there.setBalance(keyID: "key_a", remaining: 2, refill: nil)
        for _ in 0..<2 { #expect(await refusal(here, caller) == nil) }
        #expect(await refusal(here, caller) == .creditsExhausted)
        let asked = authority.leases
        #expect(await refusal(here, caller) == .creditsExhausted)
        #expect(authority.leases == asked)

        try await there.setBalance(keyID: "key_a", remaining: 4, refill: nil)
        // Until the change is heard, this instance still refuses from memory (never admits more).
        #expect(await refusal(here, caller) == .creditsExhausted)
        let leases = try #require(here.leases)
        await leases.end(for: .keyChanged(digests: [caller.key.digest]))
        for _ in 0..<4 { #expect(await refusal(here, caller) == nil) }
        #expect(await refusal(here, caller) == .creditsExhausted)
    }

    @Test func aRememberedBalanceRefusesOnlyWhatItCannotCover() async throws {
        let time = ManualTimeSource(Self.lateEvening)
        let authority = MemoryMeterAuthority()
        let meters = SpendingMeters(store: authority, time: time, authority: authority)
        let caller = principal(credits: KeyCredits())
        try await meters.setBalance(keyID: "key_a", remaining: 2, refill: nil)
        #expect(await refusal(meters, caller, cost: 3) == .creditsExhausted)
        let asked = authority.leases
        #expect(await refusal(meters, caller, cost: 3) == .creditsExhausted)
        #expect(authority.leases == asked)
        #expect(await refusal(meters, caller, cost: 2) == nil, "two credits were left: a request costing two passes")
    }

    @Test func aRefillOrUnitsGivenBackElsewhereAreSeenAfterTheRecheck() async throws {
        let time = ManualTimeSource(Self.lateEvening)
        let authority = MemoryMeterAuthority()
        let here = SpendingMeters(store: authority, time: time, authority: authority)
        let there = SpendingMeters(store: authority, time: time, authority: authority)
        let refill = CreditRefill(amount: 3, interval: .day)
        let caller = principal(credits: KeyCredits(refill: refill))
        try await here.setBalance(keyID: "key_a", remaining: 40, refill: refill)
        // The other instance leases a slice beyond its need (its second lease), then this one spends the rest.
        for _ in 0..<2 { _ = try await there.charge(caller, cost: 1) }
        #expect(try #require(there.leases).heldUnits(.credits(keyID: "key_a")) > 0)
        while await refusal(here, caller) == nil {}
        let asked = authority.leases
        await there.flush()
        #expect(await refusal(here, caller) == .creditsExhausted)
        #expect(authority.leases == asked)
        time.advance(by: MeterRefusals.recheckSeconds)
        #expect(await refusal(here, caller) == nil, "what the other instance gave back is admitted after the recheck")
        while await refusal(here, caller) == nil {}
        time.set(Self.midnight)
        #expect(await refusal(here, caller) == nil, "the refill is seen at once")
    }
}
