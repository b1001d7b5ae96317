import AITBCWire
import Foundation

extension SpendingMeters {
    /// A counter's new count, to be written once every counter of the request is checked.
    struct Update {
        var index: Dictionary<Meter, State.Counter>.Index?
        var meter: Meter
        var count: MeterCount
        /// The balance's next generation, when this charge refilled it (the next setting).
        var refilledAs: Int64?
    }

    /// Checks every counter among `meters`, then charges them all, or throws having charged none;
    /// nil, having charged none, when one of them is not in memory yet and `loaded` says they all are.
    ///
    /// On every metered request: each counter is looked up once and written once, and the tightest
    /// quota's state is made from the counts in hand (no further lookups).
    static func charge(
        _ state: inout State, meters: [Meter], quota: RequestQuota, credits: KeyCredits?, cost: Int, now: Date,
        tenantID: String, loaded: Bool = false
    ) throws -> Charge? {
        var quotaCharges: [Charge.QuotaTaken] = []
        quotaCharges.reserveCapacity(meters.count)
        var creditCharge: Charge.CreditsTaken?
        var exceeded: (period: QuotaPeriod, limit: Int, end: Int64)?
        /// The balance, when it holds less than `cost`.
        var shortOfCredits: Int?
        // The quotas as they stand before this request, and as they will stand after it.
        var before: QuotaState?
        var after: QuotaState?
        let observed = Int64(now.timeIntervalSince1970.rounded(.down))
        // Each counter's key is hashed once: its place is kept for the write.
        var updates: [Update] = []
        updates.reserveCapacity(meters.count)
        for meter in meters {
            let index = state.counts.index(forKey: meter)
            if loaded, index == nil { return nil }
            let stored = index.map { state.counts.values[$0].count }
            switch meter {
            case .quota(_, let period):
                guard let limit = quota.limit(over: period) else { continue }
                let count = currentUse(stored, period: period, now: now)
                let end = period.end(containing: now)
                before = tighter(
                    before,
                    QuotaState(
                        period: period, limit: limit, remaining: max(0, limit - count.value), resetUnixSeconds: end,
                        observedAtUnixSeconds: observed))
                if count.value + 1 > limit {
                    // When both are spent, the month's end is the one worth waiting for.
                    if exceeded.map({ $0.end < end }) ?? true { exceeded = (period, limit, end) }
                    continue
                }
                quotaCharges.append(.init(meter: meter, periodStart: count.periodStart, limit: limit))
                var updated = count
                updated.value += 1
                after = tighter(
                    after,
                    QuotaState(
                        period: period, limit: limit, remaining: max(0, limit - updated.value), resetUnixSeconds: end,
                        observedAtUnixSeconds: observed))
                updates.append(Update(index: index, meter: meter, count: updated))
            case .credits:
                guard let credits else { continue }
                let balance = currentBalance(stored, refill: credits.refill, now: now)
                if balance.value - cost < 0 { shortOfCredits = balance.value }
                // A refill made now is the balance's next setting: what was taken before goes not back to it.
                let refilled = balance.periodStart != (stored?.periodStart ?? 0)
                let generation = (index.map { state.counts.values[$0].generation } ?? 0) + (refilled ? 1 : 0)
                creditCharge = .init(meter: meter, cost: cost, periodStart: balance.periodStart, generation: generation)
                var updated = balance
                updated.value -= cost
                updates.append(Update(index: index, meter: meter, count: updated, refilledAs: refilled ? generation : nil))
            }
        }
        if let exceeded {
            throw quotaExceeded(exceeded.period, limit: exceeded.limit, end: exceeded.end, now: now, state: before)
        }
        if let shortOfCredits {
            throw creditsExhausted(remaining: shortOfCredits, cost: cost, refill: credits?.refill, now: now, quota: before)
        }
        var creditsRemaining: Int?
        // The places hold while no counter is added (one lock); a counter new here adds one.
        let placed = updates.allSatisfy { $0.index != nil }
        for update in updates {
            let alerted = alerting(update.meter, update.count, limit: quota, tenantID: tenantID, events: &state.events, now: now)
            if placed, let index = update.index { state.update(at: index, alerted) } else { state.update(update.meter, alerted) }
            if let generation = update.refilledAs, let index = state.counts.index(forKey: update.meter) {
                state.setGeneration(at: index, generation)
            }
            if case .credits = update.meter { creditsRemaining = alerted.value }
        }
        return Charge(quotas: quotaCharges, credits: creditCharge, quota: after, creditsRemaining: creditsRemaining)
    }

    /// The state with fewer requests left (ties: the one seen first, the shorter period).
    static func tighter(_ current: QuotaState?, _ candidate: QuotaState) -> QuotaState {
        guard let current, current.remaining <= candidate.remaining else { return candidate }
        return current
    }

    /// `count` of `meter` just moved by a request, with the thresholds it crossed marked and their
    /// events added to `events`.
    static func alerting(
        _ meter: Meter, _ count: MeterCount, limit quota: RequestQuota, tenantID: String, events: inout [WebhookEvent], now: Date
    ) -> MeterCount {
        var count = count
        switch meter {
        case .quota(let tenant, let period):
            guard let limit = quota.limit(over: period) else { return count }
            let crossed = MeterThresholds.quota(limit: limit, used: count.value, alerted: count.alerted)
            count.alerted = crossed.alerted
            for percent in crossed.percents {
                events.append(
                    .quotaThreshold(
                        tenantID: tenant, period: period, limit: limit, used: count.value, percent: percent,
                        resetsAt: period.end(containing: now), at: now))
            }
        case .credits(let keyID):
            let crossed = MeterThresholds.credits(granted: count.granted, remaining: count.value, alerted: count.alerted)
            count.alerted = crossed.alerted
            for threshold in crossed.thresholds {
                events.append(.creditsLow(keyID: keyID, tenantID: tenantID, remaining: count.value, threshold: threshold, at: now))
            }
        }
        return count
    }

    /// `count` of `meter` just given units back (a refund): the thresholds it no longer reaches are
    /// armed again and their events not yet written are withdrawn, so a request that was refused
    /// after all tells no crossing, and the request that really crosses it later does.
    static func rearming(_ meter: Meter, _ count: MeterCount, limit: Int?, events: inout [WebhookEvent]) -> MeterCount {
        var count = count
        guard count.alerted != 0 else { return count }
        switch meter {
        case .quota(let tenant, let period):
            guard let limit else { return count }
            let reached = MeterThresholds.quotaReached(limit: limit, used: count.value)
            for (index, percent) in MeterThresholds.quotaPercents.enumerated() where count.alerted & ~reached & (1 << index) != 0 {
                events.removeAll {
                    $0.type == .quotaThreshold && $0.tenantID == tenant && $0.data["period"] == .string(period.rawValue)
                        && $0.data["threshold_percent"] == .int(percent)
                }
            }
            count.alerted &= reached
        case .credits(let keyID):
            let low = count.granted.map(MeterThresholds.low(granted:)) ?? 0
            var withdrawn: [Int] = []
            if count.alerted & MeterThresholds.emptyBit != 0, count.value > 0 {
                count.alerted &= ~MeterThresholds.emptyBit
                withdrawn.append(0)
                // Where there is no 10 % threshold of its own, 0 set its bit too.
                if low == 0 { count.alerted &= ~MeterThresholds.lowBit }
            }
            if low > 0, count.alerted & MeterThresholds.lowBit != 0, count.value > low {
                count.alerted &= ~MeterThresholds.lowBit
                withdrawn.append(low)
            }
            if !withdrawn.isEmpty {
                events.removeAll { event in
                    event.type == .creditsLow && event.data["key_id"] == .string(keyID)
                        && withdrawn.contains { event.data["threshold"] == .int($0) }
                }
            }
        }
        return count
    }

    /// Requests counted in the current `period`: the stored count, or zero once its period is over.
    static func currentUse(_ count: MeterCount?, period: QuotaPeriod, now: Date) -> MeterCount {
        let start = period.start(containing: now)
        guard let count, count.periodStart == start else { return MeterCount(periodStart: start, value: 0) }
        return count
    }

    /// The balance now: refilled to the refill's amount when a refill period began since it was set.
    static func currentBalance(_ count: MeterCount?, refill: CreditRefill?, now: Date) -> MeterCount {
        (count ?? MeterCount(periodStart: 0, value: 0)).refilled(by: refill, at: now)
    }

    /// The quota among `meters` with the fewest requests left now (ties: the shorter period).
    static func tightest(_ state: State, meters: [Meter], quota: RequestQuota, now: Date) -> QuotaState? {
        var best: QuotaState?
        for meter in meters {
            guard case .quota(_, let period) = meter, let limit = quota.limit(over: period) else { continue }
            let used = currentUse(state[meter], period: period, now: now).value
            let candidate = QuotaState(
                period: period, limit: limit, remaining: max(0, limit - used), resetUnixSeconds: period.end(containing: now),
                observedAtUnixSeconds: Int64(now.timeIntervalSince1970.rounded(.down)))
            if best.map({ candidate.remaining < $0.remaining }) ?? true { best = candidate }
        }
        return best
    }

    static func secondsUntil(_ end: Int64, from now: Date) -> Int {
        max(1, Int(end - Int64(now.timeIntervalSince1970.rounded(.down))))
    }

    /// 429 `QUOTA_EXCEEDED` naming the spent period; `Retry-After` runs to its end.
    static func quotaExceeded(_ period: QuotaPeriod, limit: Int, end: Int64, now: Date, state: QuotaState?) -> CoordinatorError {
        let retryAfter = secondsUntil(end, from: now)
        var error = CoordinatorError(
            .rateLimited(retryAfterSeconds: retryAfter), code: .quotaExceeded,
            message: "The \(period == .day ? "daily" : "monthly") quota of \(limit) requests is used up; it renews at \(RFC3339.string(from: Date(timeIntervalSince1970: TimeInterval(end))))",
            details: [
                "period": .string(period.rawValue), "limit": .int(limit), "retry_after_seconds": .int(retryAfter),
                "reset": .int(Int(end)),
            ])
        error.quota = state
        return error
    }

    /// 429 `CREDITS_EXHAUSTED`; `Retry-After` runs to the next refill, or ``noRefillRetryAfter``.
    static func creditsExhausted(
        remaining: Int, cost: Int, refill: CreditRefill?, now: Date, quota: QuotaState?
    ) -> CoordinatorError {
        let retryAfter = refill.map { secondsUntil($0.interval.end(containing: now), from: now) } ?? noRefillRetryAfter
        var details: [String: JSONValue] = [
            "remaining": .int(remaining), "cost": .int(cost), "retry_after_seconds": .int(retryAfter),
        ]
        // A timestamp like everywhere on the wire (and like `credits.next_refill_at` of the key and `/v1/me`).
        if let refill {
            details["next_refill_at"] = .string(
                RFC3339.string(from: Date(timeIntervalSince1970: TimeInterval(refill.interval.end(containing: now)))))
        }
        var error = CoordinatorError(
            .rateLimited(retryAfterSeconds: retryAfter), code: .creditsExhausted,
            message: "This key has \(remaining) credits left and the request costs \(cost)"
                + (refill.map { "; they refill at the start of the next \($0.interval.rawValue) (UTC)" }
                    ?? "; a master key can top it up"),
            details: details)
        error.quota = quota
        return error
    }
}
