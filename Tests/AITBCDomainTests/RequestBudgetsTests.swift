import AITBCDomain
import AITBCWire
import Foundation
import Synchronization
import Testing

/// Admission of API requests: the instance's own budgets on a hand-moved clock, the shared limiter's
/// refusals remembered, a shared store that cannot be asked, revocations beyond a spent budget, usage.
@Suite struct RequestBudgetsTests {
    let start = Date(timeIntervalSince1970: 1_795_000_000)

    func principal(_ role: Role = .client, id: String = "key_a", tenantLimit: Int = 3) -> Principal {
        Principal(
            key: APIKeyRecord(
                id: id, tenantID: "t1", name: id, role: role, scopes: nil, digest: APIKeyDigest(of: id), hint: "",
                createdAt: start),
            tenant: Tenant(id: "t1", name: "t1", plan: "free", createdAt: start), tenantLimit: tenantLimit)
    }

    @Test func theLocalBudgetAdmitsItsBurstThenRefusesWith429CarryingTheBudget() async throws {
        let time = ManualTimeSource(start)
        let budgets = RequestBudgets(usage: UsageRecorder(), time: time)
        let caller = principal()
        for remaining in [2, 1, 0] {
            #expect(try await budgets.admit(caller, from: nil).decision.remaining == remaining)
        }
        let refusal = try await #require(throws: CoordinatorError.self) { try await budgets.admit(caller, from: nil) }
        #expect(refusal.code == .rateLimitExceeded)
        #expect(refusal.kind == .rateLimited(retryAfterSeconds: 20))
        #expect(refusal.budget?.admitted == false)
        #expect(refusal.budget?.limit == 3)
        #expect(refusal.details == ["limit": 3, "retry_after_seconds": 20])
        time.advance(by: 19)
        await #expect(throws: CoordinatorError.self) { try await budgets.admit(caller, from: nil) }
        time.advance(by: 1)
        #expect(try await budgets.admit(caller, from: nil).decision.admitted)
    }

    @Test func everyOutcomeIsCountedForTheKey() async throws {
        let usage = UsageRecorder()
        let budgets = RequestBudgets(usage: usage, time: ManualTimeSource(start))
        let caller = principal(tenantLimit: 2)
        budgets.finish(try await budgets.admit(caller, from: "192.0.2.1"), failed: false)
        budgets.finish(try await budgets.admit(caller, from: "192.0.2.1"), failed: true)
        _ = try? await budgets.admit(caller, from: "192.0.2.1")
        var counts = UsageCounts()
        for minute in usage.unwritten(keyID: "key_a").counts.values { counts += minute }
        #expect(counts == UsageCounts(admitted: 1, rateLimited: 1, errors: 1))
        #expect(usage.unwritten(keyID: "key_a").lastUse?.from == "192.0.2.1")
    }

    @Test func aRevocationGoesBeyondASpentBudgetOnlyForAKeyThatWritesKeys() async throws {
        let budgets = RequestBudgets(usage: UsageRecorder(), time: ManualTimeSource(start))
        let master = principal(.master, id: "key_m", tenantLimit: 1)
        let client = principal(.client, id: "key_c", tenantLimit: 1)
        _ = try await budgets.admit(master, from: nil)
        await #expect(throws: CoordinatorError.self) { try await budgets.admit(client, revocation: true, from: nil) }
        for _ in 0..<RequestBudgets.revocationsBeyondTheBudget {
            let admitted = try await budgets.admit(master, revocation: true, from: nil)
            // The budget's own state is what the caller is told: spent.
            #expect(!admitted.decision.admitted)
        }
        await #expect(throws: CoordinatorError.self) { try await budgets.admit(master, revocation: true, from: nil) }
        await #expect(throws: CoordinatorError.self) { try await budgets.admit(master, from: nil) }
    }

    @Test func aSharedRefusalIsAnsweredFromMemoryUntilItsRetryAfter() async throws {
        let time = ManualTimeSource(start)
        let shared = RefusingSharedLimit(retryAfterSeconds: 5)
        let budgets = RequestBudgets(shared: shared, usage: UsageRecorder(), time: time)
        let caller = principal()
        for _ in 0..<3 {
            await #expect(throws: CoordinatorError.self) { try await budgets.admit(caller, from: nil) }
        }
        #expect(shared.calls == 1, "the refusal was remembered")
        time.advance(by: 4)
        let remembered = try await #require(throws: CoordinatorError.self) { try await budgets.admit(caller, from: nil) }
        #expect(remembered.kind == .rateLimited(retryAfterSeconds: 1))
        #expect(shared.calls == 1)
        time.advance(by: 1)
        await #expect(throws: CoordinatorError.self) { try await budgets.admit(caller, from: nil) }
        #expect(shared.calls == 2, "past its Retry-After the shared limiter decides again")
    }

    @Test func aSharedStoreThatCannotBeAskedRefusesWith503AndCountsNothing() async throws {
        let usage = UsageRecorder()
        let budgets = RequestBudgets(shared: UnreachableSharedLimit(), usage: usage, time: ManualTimeSource(start))
        let refusal = try await #require(throws: CoordinatorError.self) { try await budgets.admit(principal(), from: nil) }
        #expect(refusal == .storageUnavailable)
        #expect(usage.unwritten(keyID: "key_a").counts.isEmpty)
        await #expect(throws: CoordinatorError.self) { try await budgets.charge(principal()) }
    }

    @Test func aDashboardActionIsChargedToTheSameBudgetAndItsRefusalReturned() async throws {
        let usage = UsageRecorder()
        let budgets = RequestBudgets(usage: usage, time: ManualTimeSource(start))
        _ = try await budgets.admit(principal(tenantLimit: 2), from: nil)
        #expect(try await budgets.charge(principal(id: "key_b", tenantLimit: 2)).admitted)
        let refused = try await budgets.charge(principal(id: "key_b", tenantLimit: 2))
        #expect(!refused.admitted)
        #expect(usage.unwritten(keyID: "key_b").counts.isEmpty)
    }
}

/// A shared limiter that refuses everything for `retryAfterSeconds`, counting how often it is asked.
final class RefusingSharedLimit: SharedRateLimit {
    let retryAfterSeconds: Int
    private let asked = Mutex(0)

    init(retryAfterSeconds: Int) { self.retryAfterSeconds = retryAfterSeconds }

    var calls: Int { asked.withLock { $0 } }

    func admit(_ first: (BudgetKey, Int), _ second: (BudgetKey, Int)?) async throws -> SharedAdmission {
        asked.withLock { $0 += 1 }
        let decision = RateDecision(
            admitted: false, limit: first.1, remaining: 0, resetUnixSeconds: 0, retryAfterSeconds: retryAfterSeconds)
        return SharedAdmission(
            decision: decision, refusedBy: first.0, retryAfterNanoseconds: Int64(retryAfterSeconds) * 1_000_000_000)
    }

    func forgetFullBudgets() async throws -> Int { 0 }
}

/// A shared limiter whose database is down.
struct UnreachableSharedLimit: SharedRateLimit {
    struct Down: Error {}
    func admit(_ first: (BudgetKey, Int), _ second: (BudgetKey, Int)?) async throws -> SharedAdmission { throw Down() }
    func forgetFullBudgets() async throws -> Int { throw Down() }
}
