import AITBCDomain
import AITBCWire
import Foundation
import Testing

/// `quota.threshold` and `credits.low` where the counters are decided in memory (SQLite): the
/// request that crosses a threshold makes its event, written with the counters' write-behind; the
/// one before does not, none comes twice, and a new period, a top-up or a refill arms them again.
@Suite struct MeterThresholdEventTests {
    static let lateEvening = MeterFixture.lateEvening
    static let midnight = MeterFixture.midnight

    func principal(quota: RequestQuota? = nil, credits: KeyCredits? = nil) -> Principal {
        MeterFixture.principal(quota: quota, credits: credits, at: Self.lateEvening)
    }

    /// Charges one request and flushes; the events written with that flush.
    func charge(_ meters: SpendingMeters, _ store: MemoryMeterStore, _ caller: Principal, cost: Int = 1) async throws -> [WebhookEvent] {
        let before = store.events.count
        _ = try await meters.charge(caller, cost: cost)
        #expect(await meters.flush())
        return Array(store.events.dropFirst(before))
    }

    @Test func theRequestThatReachesEightyAndAHundredPercentMakesOneEventEachPerPeriod() async throws {
        let time = ManualTimeSource(Self.lateEvening)
        let store = MemoryMeterStore()
        let meters = SpendingMeters(store: store, time: time)
        let caller = principal(quota: RequestQuota(perDay: 10, perMonth: 1000))
        for request in 1...7 { #expect(try await charge(meters, store, caller).isEmpty, "request \(request)") }
        let eighty = try await charge(meters, store, caller)
        #expect(eighty.count == 1)
        let event = try #require(eighty.first)
        #expect(event.type == .quotaThreshold)
        #expect(event.tenantID == "t1")
        #expect(
            event.data == [
                "tenant_id": "t1", "period": "day", "limit": 10, "used": 8, "threshold_percent": 80,
                "resets_at": "2026-11-19T00:00:00Z",
            ])
        #expect(try await charge(meters, store, caller).isEmpty, "request 9")
        let hundred = try await charge(meters, store, caller)
        #expect(hundred.map { $0.data["threshold_percent"] } == [.int(100)])
        await #expect(throws: CoordinatorError.self) { _ = try await meters.charge(caller, cost: 1) }
        #expect(await meters.flush())
        #expect(store.events.count == 2, "a refusal makes no event")

        // A new day arms the day's thresholds again (the month's 1000 are far away).
        time.set(Self.midnight)
        for _ in 1...7 { #expect(try await charge(meters, store, caller).isEmpty) }
        #expect(try await charge(meters, store, caller).map { $0.data["threshold_percent"] } == [.int(80)])
    }

    @Test func aQuotaRaisedInThePeriodTellsTheNewLimitsThresholdsWhenTheyAreReached() async throws {
        let time = ManualTimeSource(Self.lateEvening)
        let store = MemoryMeterStore()
        let meters = SpendingMeters(store: store, time: time)
        let small = principal(quota: RequestQuota(perDay: 10, perMonth: 100_000))
        for _ in 1...7 { _ = try await charge(meters, store, small) }
        #expect(try await charge(meters, store, small).map { $0.data["threshold_percent"] } == [.int(80)])
        // The tenant's daily quota goes up to 20 (8 used): 80 % of it is 16, and that crossing is told.
        let raised = principal(quota: RequestQuota(perDay: 20, perMonth: 100_000))
        for request in 9...15 { #expect(try await charge(meters, store, raised).isEmpty, "request \(request)") }
        let sixteenth = try await charge(meters, store, raised)
        #expect(sixteenth.map { $0.data["threshold_percent"] } == [.int(80)])
        #expect(sixteenth.first?.data["limit"] == .int(20))
        // Lowered again below what is used: its 80 % is reached already and told with the next request, once.
        let lowered = principal(quota: RequestQuota(perDay: 18, perMonth: 100_000))
        #expect(try await charge(meters, store, lowered).isEmpty, "80 % of 18 was told at 16 of 20: still reached")
        #expect(try await charge(meters, store, lowered).map { $0.data["threshold_percent"] } == [.int(100)])
    }

    @Test func thresholdsToldBeforeARestartAreNotToldAgain() async throws {
        let time = ManualTimeSource(Self.lateEvening)
        let store = MemoryMeterStore()
        let caller = principal(quota: RequestQuota(perDay: 10))
        let first = SpendingMeters(store: store, time: time)
        for _ in 1...8 { _ = try await charge(first, store, caller) }
        #expect(store.events.count == 1)
        let second = SpendingMeters(store: store, time: time)
        #expect(try await charge(second, store, caller).isEmpty)
        #expect(try await charge(second, store, caller).map { $0.data["threshold_percent"] } == [.int(100)])
    }

    @Test func creditsLowAtTenPercentAndAtZeroAndAgainAfterATopUpOrARefill() async throws {
        let time = ManualTimeSource(Self.lateEvening)
        let store = MemoryMeterStore()
        let meters = SpendingMeters(store: store, time: time)
        let refill = CreditRefill(amount: 20, interval: .day)
        let caller = principal(credits: KeyCredits(refill: refill))
        try await meters.setBalance(keyID: "key_a", remaining: 100, refill: refill)
        #expect(try await charge(meters, store, caller, cost: 89).isEmpty, "11 left")
        let low = try await charge(meters, store, caller)
        #expect(low.map(\.type) == [.creditsLow])
        #expect(low.first?.data == ["key_id": "key_a", "tenant_id": "t1", "remaining": 10, "threshold": 10])
        #expect(try await charge(meters, store, caller, cost: 9).isEmpty, "1 left: the low threshold was told")
        let empty = try await charge(meters, store, caller)
        #expect(empty.first?.data == ["key_id": "key_a", "tenant_id": "t1", "remaining": 0, "threshold": 0])
        #expect(empty.count == 1)

        // A top-up arms both again; a fall from above 10 % straight to 0 tells both.
        try await meters.setBalance(keyID: "key_a", remaining: 50, refill: refill)
        #expect(try await charge(meters, store, caller, cost: 50).map { $0.data["threshold"] } == [.int(5), .int(0)])

        // So does a refill: 20 at midnight, low at 2.
        time.set(Self.midnight)
        #expect(try await charge(meters, store, caller, cost: 17).isEmpty)
        #expect(try await charge(meters, store, caller).map { $0.data["threshold"] } == [.int(2)])
        #expect(store.events.allSatisfy { !$0.data.keys.contains("api_key") })
    }

    /// A charge given back (the rate limit refused the request, or a submission made no job) withdraws
    /// the crossing it made before it is written, and the request that crosses for real tells it.
    @Test func aRefundedChargeTellsNoCrossingAndTheRealCrossingIsTold() async throws {
        let time = ManualTimeSource(Self.lateEvening)
        let store = MemoryMeterStore()
        let meters = SpendingMeters(store: store, time: time)
        let caller = principal(quota: RequestQuota(perDay: 10))
        for _ in 1...7 { #expect(try await charge(meters, store, caller).isEmpty) }
        let refused = try #require(try await meters.charge(caller, cost: 1), "the 8th request reaches 80 %")
        meters.refund(refused)
        #expect(await meters.flush())
        #expect(store.events.isEmpty, "a refunded request crossed nothing")
        #expect(try await charge(meters, store, caller).map { $0.data["threshold_percent"] } == [.int(80)])

        // Credits: a submission charged 10 of 10 that made no job gets 9 back: neither 10 % nor 0 was reached.
        let spender = principal(credits: KeyCredits(refill: nil))
        try await meters.setBalance(keyID: "key_a", remaining: 10, refill: nil)
        let submission = try #require(try await meters.charge(spender, cost: 10))
        meters.refund(credits: 9, of: submission)
        #expect(await meters.flush())
        #expect(store.events.count == 1, "only the quota's 80 %: \(store.events.map(\.data))")
        let low = try await charge(meters, store, spender, cost: 8)
        #expect(low.map { $0.data["threshold"] } == [.int(1)], "9 - 8 = 1 left: the 10 % threshold, told now")
        #expect(try await charge(meters, store, spender).map { $0.data["threshold"] } == [.int(0)])
    }
}
