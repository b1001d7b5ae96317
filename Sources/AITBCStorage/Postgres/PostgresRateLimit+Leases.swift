import AITBCDomain
import PostgresNIO

/// Budget leases on PostgreSQL: one call of `aitbc_lease` decides the requests waiting on a
/// lease's budgets and charges a slice ahead; one call of `aitbc_return` gives unused units back.
extension PostgresRateLimit: BudgetLeaseAuthority {
    public func lease(_ request: LeaseRequest) async throws -> LeaseGrant {
        let first = request.budgets[0]
        let second = request.budgets.count > 1 ? request.budgets[1] : nil
        let firstName = first.key.storageName, secondName = second?.key.storageName
        let told = clock?()
        let row = try await store.read { session in
            try await session.rows(
                """
                SELECT admitted, binding, charged1, room1, tat1, step1, charged2, room2, tat2, step2, now_ns
                FROM aitbc_lease(\(firstName)::text, \(first.limit)::integer, \(first.have)::integer,
                \(first.extra)::integer, \(secondName)::text, \(second?.limit)::integer, \(second?.have)::integer,
                \(second?.extra)::integer, \(request.requests)::integer, \(told)::bigint)
                """
            ).first
        }
        guard let row else { throw PostgresFailure("aitbc_lease returned no row") }
        let (admitted, binding, charged1, room1, tat1, step1, charged2, room2, tat2, step2, now) = try row.decode(
            (Int, Int, Int, Int, Int64, Int64, Int?, Int?, Int64?, Int64?, Int64).self)
        var budgets = [
            LeaseGrant.Budget(charged: charged1, room: room1, tatUnixNanoseconds: tat1, intervalNanoseconds: step1)
        ]
        if let charged2, let room2, let tat2, let step2 {
            budgets.append(LeaseGrant.Budget(charged: charged2, room: room2, tatUnixNanoseconds: tat2, intervalNanoseconds: step2))
        }
        guard admitted < request.requests else { return LeaseGrant(admitted: admitted, budgets: budgets, refusal: nil) }
        let index = min(max(binding, 1), budgets.count) - 1
        let refusing = request.budgets[index], state = budgets[index]
        let capacity = state.intervalNanoseconds * Int64(refusing.limit)
        let wait = max(0, state.tatUnixNanoseconds + state.intervalNanoseconds - capacity - now)
        let refusal = SharedAdmission(
            decision: RateDecision(
                admitted: false, limit: refusing.limit, remaining: 0,
                resetUnixSeconds: GCRA.ceilSeconds(state.tatUnixNanoseconds),
                retryAfterSeconds: Int(max(1, GCRA.ceilSeconds(wait)))),
            refusedBy: refusing.key, retryAfterNanoseconds: wait)
        return LeaseGrant(admitted: admitted, budgets: budgets, refusal: refusal)
    }

    public func giveBack(_ units: [LeaseReturn]) async throws {
        guard !units.isEmpty else { return }
        let names = units.map(\.key.storageName)
        let counts = units.map { Int64($0.units) }
        let tats = units.map(\.tatUnixNanoseconds)
        let told = clock?()
        _ = try await store.read { session in
            try await session.rows(
                "SELECT aitbc_return(\(names)::text[], \(counts)::bigint[], \(tats)::bigint[], \(told)::bigint)")
        }
    }
}
