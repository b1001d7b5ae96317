import AITBCDomain
import Foundation
import PostgresNIO

extension PostgresStore {
    public func meterCounts(_ names: [String]) async throws -> [String: MeterCount] {
        let names = names.filter(Self.isStorable)
        guard !names.isEmpty else { return [:] }
        let rows = try await read { session in
            try await session.rows("SELECT name, period_start, value, granted, alerted FROM meters WHERE name = ANY(\(names))")
        }
        var counts: [String: MeterCount] = [:]
        for row in rows {
            let (name, periodStart, value, granted, alerted) = try row.decode((String, Int64, Int64, Int64?, Int32).self)
            counts[name] = MeterCount(
                periodStart: periodStart, value: Int(value), granted: granted.map(Int.init), alerted: Int(alerted))
        }
        return counts
    }

    public func saveMeterCounts(_ counts: [String: MeterCount], events: [WebhookEvent]) async throws {
        let events = events.filter { webhookOutbox.isSubscribed($0.tenantID, $0.type) }
        guard !counts.isEmpty || !events.isEmpty else { return }
        try await transaction { session in
            for (name, count) in counts.sorted(by: { $0.key < $1.key }) {
                try await session.rows(
                    """
                    INSERT INTO meters (name, period_start, value, granted, alerted)
                    VALUES (\(name), \(count.periodStart), \(Int64(count.value)), \(count.granted.map(Int64.init)),
                    \(Int32(count.alerted)))
                    ON CONFLICT (name) DO UPDATE SET period_start = excluded.period_start, value = excluded.value,
                    granted = excluded.granted, alerted = excluded.alerted, generation = meters.generation + 1
                    """)
            }
            for event in events { try await Self.insert(event, on: session) }
        }
        if !events.isEmpty { webhookOutbox.eventWritten() }
    }
}

/// Quota and credit counters leased in slices (see ``MeterLeases``): each lease is one transaction
/// that locks the counter's row, so concurrent leases from any number of instances never hand out
/// more than it holds. In the row, a quota's `value` is the requests used *or leased* in its period;
/// a balance's is what remains *beyond* every lease. The lease that moves a counter across a webhook
/// threshold sees its old and new value under that lock: it marks the threshold told (`alerted`) and
/// writes the event in the same transaction, so each crossing gives one event however many
/// instances lease, and only a committed lease gives one.
extension PostgresStore: MeterLeaseAuthority {
    public func leaseMeter(
        _ meter: Meter, tenantID: String, kind: MeterKind, periodStart: Int64, want: Int, need: Int, at now: Date
    ) async throws -> MeterGrant {
        let name = meter.storageName
        let (grant, wroteEvent) = try await transaction { session -> (MeterGrant, Bool) in
            if case .quota = kind {
                // The row exists before it is locked: two first leases then queue on it.
                try await session.rows(
                    "INSERT INTO meters (name, period_start, value) VALUES (\(name), \(periodStart), 0) ON CONFLICT (name) DO NOTHING")
            }
            let row = try await session.rows(
                "SELECT period_start, value, granted, alerted, generation FROM meters WHERE name = \(name) FOR UPDATE"
            ).first
            let stored = try row.map { try $0.decode((Int64, Int64, Int64?, Int32, Int64).self) }
            var generation = stored?.4 ?? 0
            var count = MeterCount(
                periodStart: stored?.0 ?? periodStart, value: Int(stored?.1 ?? 0), granted: stored?.2.map(Int.init),
                alerted: Int(stored?.3 ?? 0))
            let available: Int
            switch kind {
            case .quota(let limit):
                if count.periodStart > periodStart {
                    // Another instance, whose clock is ahead of this one's, has begun the next period:
                    // its count is not reset to an older one; this instance is granted nothing until
                    // its own clock gets there (a moment's under-admission, never over-admission).
                    return (MeterGrant(units: 0, periodStart: periodStart, remainingBeyond: 0, generation: generation), false)
                }
                if count.periodStart < periodStart { count = MeterCount(periodStart: periodStart, value: 0) }
                available = max(0, limit - count.value)
            case .credits(let refill):
                if let refill, count.periodStart < periodStart, stored != nil {
                    // A refill is the balance's next setting: units leased before go not back to it.
                    count = MeterCount(periodStart: periodStart, value: refill.amount, granted: refill.amount)
                    generation += 1
                }
                available = max(0, count.value)
            }
            let granted = available >= need ? min(want, available) : 0
            if case .quota = kind { count.value += granted } else { count.value -= granted }
            if stored == nil, case .credits = kind {
                // A balance never written is empty: nothing to take, nothing to write.
                return (MeterGrant(units: 0, periodStart: count.periodStart, remainingBeyond: 0, generation: generation), false)
            }
            let events = granted > 0 ? Self.crossings(&count, meter: meter, kind: kind, tenantID: tenantID, at: now) : []
            try await session.rows(
                """
                UPDATE meters SET period_start = \(count.periodStart), value = \(Int64(count.value)),
                granted = \(count.granted.map(Int64.init)), alerted = \(Int32(count.alerted)), generation = \(generation)
                WHERE name = \(name)
                """)
            var wrote = false
            for event in events where self.webhookOutbox.isSubscribed(tenantID, event.type) {
                try await Self.insert(event, on: session)
                wrote = true
            }
            return (
                MeterGrant(
                    units: granted, periodStart: count.periodStart, remainingBeyond: available - granted, generation: generation),
                wrote
            )
        }
        if wroteEvent { webhookOutbox.eventWritten() }
        return grant
    }

    /// The threshold events `count` (just moved by a lease of `meter`) crossed, marking them told.
    static func crossings(_ count: inout MeterCount, meter: Meter, kind: MeterKind, tenantID: String, at now: Date) -> [WebhookEvent] {
        switch (kind, meter) {
        case (.quota(let limit), .quota(_, let period)):
            let crossed = MeterThresholds.quota(limit: limit, used: count.value, alerted: count.alerted)
            count.alerted = crossed.alerted
            let end = period.end(containing: Date(timeIntervalSince1970: TimeInterval(count.periodStart)))
            return crossed.percents.map {
                .quotaThreshold(
                    tenantID: tenantID, period: period, limit: limit, used: count.value, percent: $0, resetsAt: end, at: now)
            }
        case (.credits, .credits(let keyID)):
            let crossed = MeterThresholds.credits(granted: count.granted, remaining: count.value, alerted: count.alerted)
            count.alerted = crossed.alerted
            return crossed.thresholds.map {
                .creditsLow(keyID: keyID, tenantID: tenantID, remaining: count.value, threshold: $0, at: now)
            }
        default:
            return []
        }
    }

    public func returnMeter(_ name: String, kind: MeterKind, periodStart: Int64, units: Int, generation: Int64) async throws {
        guard units > 0 else { return }
        let delta = Int64(units)
        try await transaction { session in
            if case .quota = kind {
                try await session.rows(
                    """
                    UPDATE meters SET value = GREATEST(0, value - \(delta)) WHERE name = \(name) AND period_start = \(periodStart)
                    """)
            } else {
                // Only to the balance they were leased from: after a top-up or a refill they are the
                // old one's (each makes the next generation); a change of refill alone keeps it.
                try await session.rows(
                    """
                    UPDATE meters SET value = value + \(delta) WHERE name = \(name) AND generation = \(generation)
                    """)
            }
        }
    }

    public func changeMeterRefill(_ meter: Meter, from old: CreditRefill?, to new: CreditRefill?, at now: Date) async throws -> MeterGrant? {
        let name = meter.storageName
        return try await transaction { session -> MeterGrant? in
            let row = try await session.rows(
                "SELECT period_start, value, granted, alerted, generation FROM meters WHERE name = \(name) FOR UPDATE"
            ).first
            guard let row else { return nil }
            let (periodStart, value, granted, alerted, generation) = try row.decode((Int64, Int64, Int64?, Int32, Int64).self)
            let stored = MeterCount(periodStart: periodStart, value: Int(value), granted: granted.map(Int.init), alerted: Int(alerted))
            let (count, refilled) = stored.refillChanged(from: old, to: new, at: now)
            let next = generation + (refilled ? 1 : 0)
            try await session.rows(
                """
                UPDATE meters SET period_start = \(count.periodStart), value = \(Int64(count.value)),
                granted = \(count.granted.map(Int64.init)), alerted = \(Int32(count.alerted)), generation = \(next)
                WHERE name = \(name)
                """)
            return MeterGrant(units: 0, periodStart: count.periodStart, remainingBeyond: count.value, generation: next)
        }
    }
}
