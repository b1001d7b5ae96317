import AITBCDomain
import PostgresNIO

/// Rate limits kept in PostgreSQL for all instances: one call of the `aitbc_admit` function per
/// request, which locks the budgets' rows, runs the same GCRA as ``RateLimiter`` on the database's
/// clock, and charges them only if all have room. N instances therefore admit exactly what one would.
public struct PostgresRateLimit: SharedRateLimit {
    let store: PostgresStore

    public init(store: PostgresStore) {
        self.store = store
    }

    public func admit(_ first: (BudgetKey, Int), _ second: (BudgetKey, Int)?) async throws -> SharedAdmission {
        let firstName = first.0.storageName, firstLimit = first.1
        let secondName = second?.0.storageName, secondLimit = second?.1
        let row = try await store.read { session in
            try await session.rows(
                """
                SELECT admitted, refused_by, lim, remaining, reset_ns, wait_ns
                FROM aitbc_admit(\(firstName)::text, \(firstLimit)::integer, \(secondName)::text, \(secondLimit)::integer)
                """
            ).first
        }
        guard let row else { throw PostgresFailure("aitbc_admit returned no row") }
        let (admitted, refusedBy, limit, remaining, resetNanoseconds, waitNanoseconds) = try row.decode(
            (Bool, Int, Int, Int, Int64, Int64).self)
        let decision = RateDecision(
            admitted: admitted, limit: limit, remaining: remaining,
            resetUnixSeconds: GCRA.ceilSeconds(resetNanoseconds),
            retryAfterSeconds: admitted ? 0 : Int(max(1, GCRA.ceilSeconds(waitNanoseconds))))
        let refusing: BudgetKey? = admitted ? nil : (refusedBy == 2 ? second?.0 : first.0)
        return SharedAdmission(decision: decision, refusedBy: refusing, retryAfterNanoseconds: waitNanoseconds)
    }
}
