import Foundation

/// What the dashboard shows of a tenant's quotas: each period's state, read without charging anything.
extension SpendingMeters {
    /// The state of each period of `quota` (day, then month) for `principal`'s tenant now, charging nothing.
    ///
    /// Counting alone (SQLite), that is this instance's counter. Sharing counters (PostgreSQL), it is
    /// the shared counter's remainder plus the units this instance holds unspent; what other instances
    /// hold unspent counts as used until they give it back (within a flush interval).
    public func quotaStates(of principal: Principal, quota: RequestQuota) async throws -> [QuotaState] {
        let now = time.now()
        var states: [QuotaState] = []
        for period in QuotaPeriod.allCases {
            guard let limit = quota.limit(over: period) else { continue }
            let single = period == .day ? RequestQuota(perDay: limit) : RequestQuota(perMonth: limit)
            guard let leases else {
                let alone = Principal(
                    key: principal.key, tenant: principal.tenant, tenantLimit: principal.tenantLimit, quota: single)
                if let state = try await quotaState(of: alone) { states.append(state) }
                continue
            }
            let meter = Meter.quota(tenantID: principal.tenant.id, period: period)
            // Behind the leasing gate: no lease moves units between the two reads.
            let remaining: Int
            do {
                remaining = try await leases.leasing.run {
                    let grant = try await leases.authority.leaseMeter(
                        meter, tenantID: principal.tenant.id, kind: .quota(limit: limit),
                        periodStart: period.start(containing: now), want: 0, need: 0, at: now)
                    return grant.remainingBeyond + leases.heldUnits(meter)
                }
            } catch {
                throw CoordinatorError.storageUnavailable
            }
            states.append(
                QuotaState(
                    period: period, limit: limit, remaining: min(limit, remaining),
                    resetUnixSeconds: period.end(containing: now), observedAtUnixSeconds: Int64(now.timeIntervalSince1970)))
        }
        return states
    }
}
