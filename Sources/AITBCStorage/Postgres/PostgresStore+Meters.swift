import AITBCDomain
import PostgresNIO

extension PostgresStore {
    public func meterCounts(_ names: [String]) async throws -> [String: MeterCount] {
        let names = names.filter(Self.isStorable)
        guard !names.isEmpty else { return [:] }
        let rows = try await read { session in
            try await session.rows("SELECT name, period_start, value FROM meters WHERE name = ANY(\(names))")
        }
        var counts: [String: MeterCount] = [:]
        for row in rows {
            let (name, periodStart, value) = try row.decode((String, Int64, Int64).self)
            counts[name] = MeterCount(periodStart: periodStart, value: Int(value))
        }
        return counts
    }

    public func saveMeterCounts(_ counts: [String: MeterCount]) async throws {
        guard !counts.isEmpty else { return }
        try await transaction { session in
            for (name, count) in counts.sorted(by: { $0.key < $1.key }) {
                try await session.rows(
                    """
                    INSERT INTO meters (name, period_start, value) VALUES (\(name), \(count.periodStart), \(Int64(count.value)))
                    ON CONFLICT (name) DO UPDATE SET period_start = excluded.period_start, value = excluded.value
                    """)
            }
        }
    }
}

/// Quota and credit counters leased in slices (see ``MeterLeases``): each lease is one transaction
/// that locks the counter's row, so concurrent leases from any number of instances never hand out
/// more than it holds. In the row, a quota's `value` is the requests used *or leased* in its period;
/// a balance's is what remains *beyond* every lease.
extension PostgresStore: MeterLeaseAuthority {
    public func leaseMeter(_ name: String, kind: MeterKind, periodStart: Int64, want: Int, need: Int) async throws -> MeterGrant {
        try await transaction { session in
            if case .quota = kind {
                // The row exists before it is locked: two first leases then queue on it.
                try await session.rows(
                    "INSERT INTO meters (name, period_start, value) VALUES (\(name), \(periodStart), 0) ON CONFLICT (name) DO NOTHING")
            }
            let row = try await session.rows("SELECT period_start, value FROM meters WHERE name = \(name) FOR UPDATE").first
            let stored = try row.map { try $0.decode((Int64, Int64).self) }
            var start = stored?.0 ?? periodStart
            var value = Int(stored?.1 ?? 0)
            let available: Int
            switch kind {
            case .quota(let limit):
                if start != periodStart {
                    start = periodStart
                    value = 0
                }
                available = max(0, limit - value)
            case .credits(let refill):
                if let refill, start < periodStart {
                    start = periodStart
                    value = refill.amount
                }
                available = max(0, value)
            }
            let granted = available >= need ? min(want, available) : 0
            if case .quota = kind { value += granted } else { value -= granted }
            if stored == nil, case .credits = kind {
                // A balance never written is empty: nothing to take, nothing to write.
                return MeterGrant(units: 0, periodStart: start, remainingBeyond: 0)
            }
            try await session.rows(
                "UPDATE meters SET period_start = \(start), value = \(Int64(value)) WHERE name = \(name)")
            return MeterGrant(units: granted, periodStart: start, remainingBeyond: available - granted)
        }
    }

    public func returnMeter(_ name: String, kind: MeterKind, periodStart: Int64, units: Int) async throws {
        guard units > 0 else { return }
        let delta = Int64(units)
        try await transaction { session in
            if case .quota = kind {
                try await session.rows(
                    """
                    UPDATE meters SET value = GREATEST(0, value - \(delta)) WHERE name = \(name) AND period_start = \(periodStart)
                    """)
            } else {
                try await session.rows(
                    "UPDATE meters SET value = value + \(delta) WHERE name = \(name) AND period_start = \(periodStart)")
            }
        }
    }
}
