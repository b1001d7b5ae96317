/// Requests the leases cannot serve: decided together, one statement for everyone waiting on the same budgets.
extension BudgetLeases {
    /// What a batch of requests needs: served from the leases after all, or a statement (after giving back stale slices).
    enum Plan {
        case served([SharedAdmission])
        case ask(LeaseRequest, returns: [LeaseReturn])
    }

    /// Decides this request with the others waiting on `line`: the first to arrive leads and asks for
    /// everyone who queued meanwhile; the next to queue leads the next statement.
    func topUp(_ line: Line, _ budgets: [(BudgetKey, Int)], now: RateInstant) async throws -> SharedAdmission {
        let turn = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Turn, any Error>) in
            let lead = state.withLock { state in
                if state.lines[line] != nil {
                    state.lines[line]?.append(continuation)
                    return false
                }
                state.lines[line] = []
                return true
            }
            if lead { continuation.resume(returning: .lead) }
        }
        if case .decided(let admission) = turn { return admission }
        let followers = state.withLock { state in
            defer { state.lines[line] = [] }
            return state.lines[line] ?? []
        }
        let outcome: Result<[SharedAdmission], any Error>
        do {
            outcome = .success(try await decide(budgets, count: followers.count + 1))
        } catch {
            outcome = .failure(error)
        }
        let next = state.withLock { state -> CheckedContinuation<Turn, any Error>? in
            guard var waiting = state.lines[line], !waiting.isEmpty else {
                state.lines[line] = nil
                return nil
            }
            let next = waiting.removeFirst()
            state.lines[line] = waiting
            return next
        }
        switch outcome {
        case .success(let admissions):
            for (follower, admission) in zip(followers, admissions.dropFirst()) { follower.resume(returning: .decided(admission)) }
            next?.resume(returning: .lead)
            return admissions[0]
        case .failure(let error):
            for follower in followers { follower.resume(throwing: error) }
            next?.resume(returning: .lead)
            throw error
        }
    }

    /// Decides `count` requests drawing on `budgets`, in order: from the leases if they hold enough,
    /// else with one statement; if the authority cannot be asked, the units held are kept and it throws.
    func decide(_ budgets: [(BudgetKey, Int)], count: Int) async throws -> [SharedAdmission] {
        let plan = state.withLock { state in prepare(budgets, count: count, now: time.monotonicNanoseconds(), in: &state) }
        guard case .ask(let request, let returns) = plan else {
            if case .served(let admissions) = plan { return admissions }
            return []
        }
        // A slice charged under a former limit goes back first: the new limit would count it otherwise.
        if !returns.isEmpty { await giveBack(returns) }
        let grant: LeaseGrant
        do {
            grant = try await authority.lease(request)
        } catch {
            state.withLock { state in
                state.statements += 1
                for budget in request.budgets where budget.have > 0 { state.leases[budget.key]?.units += budget.have }
            }
            throw error
        }
        let (admissions, stale) = state.withLock { state in
            state.statements += 1
            return settle(request, grant, now: time.monotonicNanoseconds(), in: &state)
        }
        if !stale.isEmpty { await giveBack(stale) }
        return admissions
    }

    /// Ends the leases the requests cannot use (another limit, expired) and either serves them from
    /// the leases or takes the units held for them and says what to ask for.
    private func prepare(_ budgets: [(BudgetKey, Int)], count: Int, now: Int64, in state: inout State) -> Plan {
        var returns: [LeaseReturn] = []
        for (key, limit) in budgets {
            var lease = state.leases[key] ?? BudgetLease(limit: limit, now: now)
            if lease.limit != max(1, limit) {
                if lease.units > 0 { returns.append(LeaseReturn(key: key, units: lease.units, tatUnixNanoseconds: lease.tat)) }
                lease = BudgetLease(limit: limit, now: now)
            } else if lease.expires <= now, lease.units > 0 {
                returns.append(LeaseReturn(key: key, units: lease.units, tatUnixNanoseconds: lease.tat))
                lease.units = 0
            }
            state.leases[key] = lease
        }
        if budgets.allSatisfy({ (state.leases[$0.0]?.units ?? 0) >= count }) && returns.isEmpty {
            var admissions: [SharedAdmission] = []
            for (key, _) in budgets { state.leases[key]?.spend(count, now: now) }
            for index in 0..<count {
                let decisions = budgets.compactMap { state.leases[$0.0].map { Self.decision($0, spentAfter: count - index - 1) } }
                admissions.append(SharedAdmission(decision: Self.tightest(decisions), refusedBy: nil, retryAfterNanoseconds: 0))
            }
            return .served(admissions)
        }
        var asked: [LeaseRequest.Budget] = []
        for (key, limit) in budgets {
            guard var lease = state.leases[key] else { continue }
            let have = min(count, lease.units)
            lease.units -= have
            let slice = lease.slice(horizon: settings.horizonNanoseconds, share: settings.share)
            asked.append(LeaseRequest.Budget(key: key, limit: limit, have: have, extra: slice > 1 ? slice : 0))
            state.leases[key] = lease
        }
        return .ask(LeaseRequest(budgets: asked, requests: count), returns: returns)
    }

    /// Takes the grant into the leases and returns the requests' decisions in order, and the units to
    /// give back at once (their lease ended while the statement was under way).
    private func settle(
        _ request: LeaseRequest, _ grant: LeaseGrant, now: Int64, in state: inout State
    ) -> ([SharedAdmission], [LeaseReturn]) {
        var stale: [LeaseReturn] = []
        var settled: [BudgetLease] = []
        for (asked, granted) in zip(request.budgets, grant.budgets) {
            var lease = state.leases[asked.key] ?? BudgetLease(limit: asked.limit, now: now)
            let pool = asked.have + granted.charged
            guard lease.limit == asked.limit else {
                if pool > grant.admitted {
                    stale.append(LeaseReturn(key: asked.key, units: pool - grant.admitted, tatUnixNanoseconds: granted.tatUnixNanoseconds))
                }
                var gone = BudgetLease(limit: asked.limit, now: now)
                gone.units = grant.admitted
                gone.room = granted.room
                gone.tat = granted.tatUnixNanoseconds
                gone.spend(grant.admitted, now: now)
                settled.append(gone)
                continue
            }
            lease.units += pool
            lease.room = granted.room
            lease.tat = granted.tatUnixNanoseconds
            if granted.charged > 0 { lease.expires = now + settings.lifetimeNanoseconds }
            lease.spend(grant.admitted, now: now)
            state.leases[asked.key] = lease
            settled.append(lease)
        }
        var admissions: [SharedAdmission] = []
        for index in 0..<request.requests {
            if index < grant.admitted {
                let decisions = settled.map { Self.decision($0, spentAfter: grant.admitted - index - 1) }
                admissions.append(SharedAdmission(decision: Self.tightest(decisions), refusedBy: nil, retryAfterNanoseconds: 0))
            } else {
                admissions.append(grant.refusal ?? Self.refusal(request))
            }
        }
        return (admissions, stale)
    }

    /// A refusal the authority did not describe (it always does): retry in a second.
    static func refusal(_ request: LeaseRequest) -> SharedAdmission {
        let budget = request.budgets[0]
        return SharedAdmission(
            decision: RateDecision(admitted: false, limit: budget.limit, remaining: 0, resetUnixSeconds: 0, retryAfterSeconds: 1),
            refusedBy: budget.key, retryAfterNanoseconds: 1_000_000_000)
    }

    /// Takes the units leased ahead into the leases (or gives them back if their lease ended meanwhile).
    func renew(_ request: LeaseRequest) async {
        let grant = try? await authority.lease(request)
        let stale = state.withLock { state -> [LeaseReturn] in
            state.statements += 1
            let now = time.monotonicNanoseconds()
            var stale: [LeaseReturn] = []
            for (index, asked) in request.budgets.enumerated() {
                let granted = grant?.budgets[index]
                guard var lease = state.leases[asked.key], lease.limit == asked.limit else {
                    if let granted, granted.charged > 0 {
                        stale.append(LeaseReturn(key: asked.key, units: granted.charged, tatUnixNanoseconds: granted.tatUnixNanoseconds))
                    }
                    continue
                }
                lease.prefetching = false
                if let granted {
                    lease.units += granted.charged
                    lease.room = granted.room
                    lease.tat = granted.tatUnixNanoseconds
                    if granted.charged > 0 { lease.expires = now + settings.lifetimeNanoseconds }
                }
                if (grant?.budgets[index].charged ?? 0) < asked.extra {
                    // No room (or no answer): do not ask again at every request.
                    lease.quietUntil = now + settings.lifetimeNanoseconds / 4
                }
                state.leases[asked.key] = lease
            }
            return stale
        }
        if !stale.isEmpty { await giveBack(stale) }
    }

    /// Gives units back; if the authority cannot be asked, they stay charged until the budget refills.
    func giveBack(_ returns: [LeaseReturn]) async {
        let units = returns.filter { $0.units > 0 }
        guard !units.isEmpty else { return }
        state.withLock { $0.statements += 1 }
        try? await authority.giveBack(units)
    }
}
