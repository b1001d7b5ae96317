import AITBCDomain
import SQLiteNIO

extension SQLiteStore {
    public func meterCounts(_ names: [String]) async throws -> [String: MeterCount] {
        guard !names.isEmpty else { return [:] }
        let placeholders = Array(repeating: "?", count: names.count).joined(separator: ", ")
        let rows = try await read { connection in
            try connection.query(
                "SELECT name, period_start, value, granted, alerted FROM meters WHERE name IN (\(placeholders))",
                names.map { .text($0) })
        }
        var counts: [String: MeterCount] = [:]
        for row in rows {
            guard let name = row.column("name")?.string else { continue }
            counts[name] = MeterCount(
                periodStart: Int64(row.column("period_start")?.integer ?? 0), value: row.column("value")?.integer ?? 0,
                granted: row.column("granted")?.integer, alerted: row.column("alerted")?.integer ?? 0)
        }
        return counts
    }

    /// Writes the counters and, in the same transaction, the threshold events of subscribed tenants:
    /// an event is durable exactly when the count that crossed its threshold is.
    public func saveMeterCounts(_ counts: [String: MeterCount], events: [WebhookEvent]) async throws {
        let events = events.filter { webhookOutbox.isSubscribed($0.tenantID, $0.type) }
        guard !counts.isEmpty || !events.isEmpty else { return }
        try await transaction { connection in
            for (name, count) in counts {
                _ = try connection.query(
                    """
                    INSERT INTO meters (name, period_start, value, granted, alerted) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(name) DO UPDATE SET period_start = excluded.period_start, value = excluded.value,
                    granted = excluded.granted, alerted = excluded.alerted
                    """,
                    [
                        .text(name), .integer(Int(count.periodStart)), .integer(count.value),
                        count.granted.map { .integer($0) } ?? .null, .integer(count.alerted),
                    ])
            }
            for event in events { try Self.insert(event, on: connection) }
        }
        if !events.isEmpty { webhookOutbox.eventWritten() }
    }
}
