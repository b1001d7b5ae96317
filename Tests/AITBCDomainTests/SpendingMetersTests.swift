import AITBCDomain
import AITBCWire
import Foundation
import Synchronization
import Testing

/// Quota and credit counters in memory: UTC calendar periods, all-or-nothing charges, refunds,
/// refills, the plans setting's quota syntax, and counters written behind and read back.
@Suite struct SpendingMetersTests {
    let start = MeterFixture.start

    func principal(quota: RequestQuota? = nil, credits: KeyCredits? = nil, key: String = "key_a") -> Principal {
        MeterFixture.principal(quota: quota, credits: credits, key: key, name: key, at: start)
    }

    static func date(_ text: String) -> Date { RFC3339.date(from: text)! }

    @Test func periodsAreUTCCalendarDaysAndMonthsIncludingYearEndAndLeapFebruary() {
        let cases: [(String, QuotaPeriod, String, String)] = [
            ("2026-11-18T11:06:40Z", .day, "2026-11-18T00:00:00Z", "2026-11-19T00:00:00Z"),
            ("2026-11-18T11:06:40Z", .month, "2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z"),
            ("2026-12-31T23:59:59Z", .day, "2026-12-31T00:00:00Z", "2027-01-01T00:00:00Z"),
            ("2026-12-31T23:59:59Z", .month, "2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z"),
            ("2027-01-01T00:00:00Z", .month, "2027-01-01T00:00:00Z", "2027-02-01T00:00:00Z"),
            ("2028-02-29T12:00:00Z", .month, "2028-02-01T00:00:00Z", "2028-03-01T00:00:00Z"),
            ("2027-02-28T12:00:00Z", .month, "2027-02-01T00:00:00Z", "2027-03-01T00:00:00Z"),
            ("1969-12-31T12:00:00Z", .day, "1969-12-31T00:00:00Z", "1970-01-01T00:00:00Z"),
        ]
        for (at, period, start, end) in cases {
            let date = Self.date(at)
            #expect(period.start(containing: date) == Int64(Self.date(start).timeIntervalSince1970), "\(at) \(period)")
            #expect(period.end(containing: date) == Int64(Self.date(end).timeIntervalSince1970), "\(at) \(period)")
        }
    }

    @Test func plansSettingKeepsTodaysSyntaxAndGrowsQuotas() throws {
        let plain = try #require(PlanTable(parsing: "free=60,pro=600,enterprise=6000"))
        #expect(plain == .standard)
        #expect(plain.effectiveQuota(for: Tenant(id: "t", name: "t", plan: "pro", createdAt: start)) == nil)
        let quoted = try #require(PlanTable(parsing: "free=60/day:1000,pro=600/day:10000/month:200000,enterprise=6000"))
        #expect(quoted.limit(of: "pro") == 600)
        #expect(quoted.quotas["free"] == RequestQuota(perDay: 1000))
        #expect(quoted.quotas["pro"] == RequestQuota(perDay: 10000, perMonth: 200_000))
        #expect(quoted.quotas["enterprise"] == nil)
        var tenant = Tenant(id: "t", name: "t", plan: "pro", createdAt: start)
        tenant.customQuota.perMonth = 5
        #expect(quoted.effectiveQuota(for: tenant) == RequestQuota(perDay: 10000, perMonth: 5))
        for bad in ["free=60/day:0", "free=60/week:3", "free=60/day:3/day:4", "free=60/day", "=60"] {
            #expect(PlanTable(parsing: bad) == nil, "\(bad)")
        }
    }

    @Test func aQuotaAdmitsItsLastRequestAndRefusesTheNextChargingNothing() async throws {
        let time = ManualTimeSource(start)
        let meters = SpendingMeters(store: nil, time: time)
        let caller = principal(quota: RequestQuota(perDay: 2), credits: KeyCredits())
        try await meters.setBalance(keyID: "key_a", remaining: 10, refill: nil)
        #expect(try await meters.charge(caller, cost: 1)?.quota?.remaining == 1)
        #expect(try await meters.charge(caller, cost: 1)?.quota?.remaining == 0)
        let refusal = try await #require(throws: CoordinatorError.self) { try await meters.charge(caller, cost: 1) }
        #expect(refusal.code == .quotaExceeded)
        #expect(refusal.quota?.remaining == 0)
        // The refused request took no credit.
        #expect(try await meters.balance(of: caller.key)?.remaining == 8)
    }

    @Test func creditsRefusalTakesNoQuotaAndARefundGivesEverythingBack() async throws {
        let time = ManualTimeSource(start)
        let meters = SpendingMeters(store: nil, time: time)
        let caller = principal(quota: RequestQuota(perMonth: 100), credits: KeyCredits())
        try await meters.setBalance(keyID: "key_a", remaining: 3, refill: nil)
        let refusal = try await #require(throws: CoordinatorError.self) { try await meters.charge(caller, cost: 4) }
        #expect(refusal.code == .creditsExhausted)
        #expect(try await meters.quotaState(of: caller)?.remaining == 100)
        let charge = try #require(try await meters.charge(caller, cost: 3))
        #expect(try await meters.balance(of: caller.key)?.remaining == 0)
        meters.refund(charge)
        #expect(try await meters.balance(of: caller.key)?.remaining == 3)
        #expect(try await meters.quotaState(of: caller)?.remaining == 100)
    }

    /// A balance without refill counts in period 0 before and after a top-up: what tells the two
    /// apart is the setting, so a request refused (or a job's cost returned) after the top-up gives
    /// nothing to the balance set anew.
    @Test func aRefundAfterATopUpGivesNothingToTheNewBalance() async throws {
        let meters = SpendingMeters(store: MemoryMeterStore(), time: ManualTimeSource(start))
        let caller = principal(quota: RequestQuota(perDay: 100), credits: KeyCredits())
        try await meters.setBalance(keyID: "key_a", remaining: 5, refill: nil)
        let charge = try #require(try await meters.charge(caller, cost: 2))
        let job = try #require(try await meters.charge(caller, cost: 3))
        #expect(try await meters.balance(of: caller.key)?.remaining == 0)
        try await meters.setBalance(keyID: "key_a", remaining: 10, refill: nil)
        meters.refund(charge)
        meters.refund(credits: 3, of: job)
        #expect(try await meters.balance(of: caller.key)?.remaining == 10)
        // The quota is not a balance set anew: its request is given back.
        #expect(try await meters.quotaState(of: caller)?.remaining == 99)
        // Charges of the new setting are refunded as before.
        let after = try #require(try await meters.charge(caller, cost: 4))
        meters.refund(after)
        #expect(try await meters.balance(of: caller.key)?.remaining == 10)
    }

    /// A change of refill alone keeps what the balance holds, read and set under one lock, and its
    /// setting: a charge taken before the change is refunded in full. The new refill comes first at
    /// its next boundary, not at once; the change is written at once.
    @Test func aChangeOfRefillAloneKeepsTheBalanceAndRefillsAtTheNextBoundary() async throws {
        let store = MemoryMeterStore()
        let time = ManualTimeSource(start)
        let meters = SpendingMeters(store: store, time: time)
        try await meters.setBalance(keyID: "key_a", remaining: 10, refill: nil)
        let charge = try #require(try await meters.charge(principal(credits: KeyCredits()), cost: 3))
        let daily = CreditRefill(amount: 50, interval: .day)
        #expect(try await meters.changeRefill(keyID: "key_a", from: nil, to: daily) == 7)
        #expect(store.saved["credits:key_a"]?.value == 7)
        meters.refund(charge)
        let caller = principal(credits: KeyCredits(refill: daily))
        #expect(try await meters.balance(of: caller.key)?.remaining == 10)
        // A monthly refill after a daily one counts from today still: it refills nothing before next month.
        let monthly = CreditRefill(amount: 500, interval: .month)
        #expect(try await meters.changeRefill(keyID: "key_a", from: daily, to: monthly) == 10)
        #expect(try await meters.balance(of: principal(credits: KeyCredits(refill: monthly)).key)?.remaining == 10)
        #expect(try await meters.changeRefill(keyID: "key_a", from: monthly, to: daily) == 10)
        time.set(MeterFixture.midnight)
        #expect(try await meters.balance(of: caller.key)?.remaining == 50)
    }

    /// A refill is the balance's next setting: what a charge took before it goes not back to the
    /// refilled balance; a charge of the new period is refunded.
    @Test func aRefundOfAChargeTakenBeforeARefillGivesNothingToTheRefilledBalance() async throws {
        let time = ManualTimeSource(start)
        let meters = SpendingMeters(store: MemoryMeterStore(), time: time)
        let refill = CreditRefill(amount: 5, interval: .day)
        let caller = principal(credits: KeyCredits(refill: refill))
        try await meters.setBalance(keyID: "key_a", remaining: 5, refill: refill)
        let before = try #require(try await meters.charge(caller, cost: 2))
        time.set(MeterFixture.midnight)
        let after = try #require(try await meters.charge(caller, cost: 1))
        meters.refund(before)
        #expect(try await meters.balance(of: caller.key)?.remaining == 4)
        meters.refund(after)
        #expect(try await meters.balance(of: caller.key)?.remaining == 5)
    }

    @Test func aCallerWithoutQuotaOrCreditsIsNotMetered() async throws {
        let meters = SpendingMeters(store: nil, time: ManualTimeSource(start))
        #expect(try await meters.charge(principal(), cost: 1) == nil)
    }

    @Test func refillSetsTheBalanceAtThePeriodStartAndDoesNotAccumulate() async throws {
        let time = ManualTimeSource(start)
        let meters = SpendingMeters(store: nil, time: time)
        let refill = CreditRefill(amount: 2, interval: .day)
        let caller = principal(credits: KeyCredits(refill: refill))
        try await meters.setBalance(keyID: "key_a", remaining: 1, refill: refill)
        _ = try await meters.charge(caller, cost: 1)
        let refusal = try await #require(throws: CoordinatorError.self) { try await meters.charge(caller, cost: 1) }
        #expect(refusal.kind == .rateLimited(retryAfterSeconds: 46_400))
        time.set(Self.date("2026-11-21T00:00:00Z"))
        #expect(try await meters.balance(of: caller.key)?.remaining == 2)
        _ = try await meters.charge(caller, cost: 2)
        await #expect(throws: CoordinatorError.self) { try await meters.charge(caller, cost: 1) }
    }

    @Test func countersAreWrittenBehindAndReadBackByAFreshInstance() async throws {
        let store = MemoryMeterStore()
        let time = ManualTimeSource(start)
        let caller = principal(quota: RequestQuota(perDay: 5), credits: KeyCredits())
        let first = SpendingMeters(store: store, time: time)
        try await first.setBalance(keyID: "key_a", remaining: 10, refill: nil)
        #expect(store.saved["credits:key_a"]?.value == 10)
        for _ in 0..<3 { _ = try await first.charge(caller, cost: 1) }
        #expect(store.saved["quota:day:t1"] == nil)
        #expect(await first.flush())
        #expect(store.saved["quota:day:t1"]?.value == 3)
        let second = SpendingMeters(store: store, time: time)
        #expect(try await second.charge(caller, cost: 1)?.quota?.remaining == 1)
        #expect(try await second.balance(of: caller.key)?.remaining == 6)
    }
}

/// Counters kept in a dictionary, as a store would keep them.
final class MemoryMeterStore: MeterStore {
    private let counts = Mutex([String: MeterCount]())

    private let written = Mutex([WebhookEvent]())

    var saved: [String: MeterCount] { counts.withLock { $0 } }
    /// The threshold events written with the counters, in order.
    var events: [WebhookEvent] { written.withLock { $0 } }

    func meterCounts(_ names: [String]) async throws -> [String: MeterCount] {
        counts.withLock { counts in counts.filter { names.contains($0.key) } }
    }

    func saveMeterCounts(_ batch: [String: MeterCount], events: [WebhookEvent]) async throws {
        counts.withLock { $0.merge(batch) { $1 } }
        written.withLock { $0 += events }
    }
}
