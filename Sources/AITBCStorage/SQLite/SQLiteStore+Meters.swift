import AITBCDomain
import SQLiteNIO

extension SQLiteStore {
    public func meterCounts(_ names: [String]) async throws -> [String: MeterCount] {
        guard !names.isEmpty else { return [:] }
        let placeholders = Array(repeating: "?", count: names.count).joined(separator: ", ")
        let rows = try await read { connection in
            try await connection.query(
                "SELECT name, period_start, value FROM meters WHERE name IN (\(placeholders))", names.map { .text($0) })
        }
        var counts: [String: MeterCount] = [:]
        for row in rows {
            guard let name = row.column("name")?.string else { continue }
            counts[name] = MeterCount(
                periodStart: Int64(row.column("period_start")?.integer ?? 0), value: row.column("value")?.integer ?? 0)
        }
        return counts
    }

    public func saveMeterCounts(_ counts: [String: MeterCount]) async throws {
        guard !counts.isEmpty else { return }
        try await transaction { connection in
            for (name, count) in counts {
                _ = try await connection.query(
                    """
                    INSERT INTO meters (name, period_start, value) VALUES (?, ?, ?)
                    ON CONFLICT(name) DO UPDATE SET period_start = excluded.period_start, value = excluded.value
                    """,
                    [.text(name), .integer(Int(count.periodStart)), .integer(count.value)])
            }
        }
    }
}
