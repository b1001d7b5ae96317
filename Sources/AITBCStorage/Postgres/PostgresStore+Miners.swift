import AITBCDomain
import AITBCWire
import Foundation
import PostgresNIO

extension PostgresStore {
    static let minerColumns = """
        tenant_id, id, key_id, capabilities, concurrency, region, status, inflight, metadata, registered_at, last_seen_at
        """

    public func upsertMiner(_ miner: Miner) async throws -> Bool {
        try await transaction { session in
            // The id stays with the key that holds it: another key's write changes nothing.
            !(try await session.rows(
                """
                INSERT INTO miners (\(unescaped: Self.minerColumns)) VALUES (\(miner.tenantID), \(miner.id), \(miner.keyID),
                \(JSONText.encode(miner.capabilities)), \(miner.concurrency), \(miner.region), \(miner.status.rawValue),
                \(miner.reportedInflight), \(JSONText.encode(miner.metadata)), \(PostgresInstant(miner.registeredAt)),
                \(PostgresInstant(miner.lastSeenAt)))
                ON CONFLICT (tenant_id, id) DO UPDATE SET key_id = excluded.key_id, capabilities = excluded.capabilities,
                concurrency = excluded.concurrency, region = excluded.region, status = excluded.status,
                inflight = excluded.inflight, metadata = excluded.metadata, registered_at = excluded.registered_at,
                last_seen_at = excluded.last_seen_at WHERE miners.key_id = excluded.key_id RETURNING id
                """
            ).isEmpty)
        }
    }

    public func deleteMiner(tenantID: String, id: String) async throws -> Bool {
        try await transaction { session in
            !(try await session.rows("DELETE FROM miners WHERE tenant_id = \(tenantID) AND id = \(id) RETURNING id").isEmpty)
        }
    }

    public func miners() async throws -> [Miner] {
        try await read { session in
            try await session.rows("SELECT \(unescaped: Self.minerColumns) FROM miners").compactMap(Self.miner(from:))
        }
    }

    public func miner(tenantID: String, id: String) async throws -> Miner? {
        guard Self.isStorable(tenantID), Self.isStorable(id) else { return nil }
        return try await read { session in
            try await session.rows(
                "SELECT \(unescaped: Self.minerColumns) FROM miners WHERE tenant_id = \(tenantID) AND id = \(id)"
            ).first.flatMap(Self.miner(from:))
        }
    }

    static func miner(from row: PostgresRow) throws -> Miner? {
        let record = PostgresRecord(row)
        guard let status = Miner.Status(rawValue: try record("status")) else { return nil }
        return Miner(
            id: try record("id"), tenantID: try record("tenant_id"), keyID: try record("key_id"),
            capabilities: JSONText.decodeObject(try record("capabilities")), concurrency: try record("concurrency"),
            region: try record("region"), status: status, reportedInflight: try record("inflight"),
            metadata: JSONText.decodeObject(try record("metadata")),
            registeredAt: try record("registered_at", as: PostgresInstant.self).date,
            lastSeenAt: try record("last_seen_at", as: PostgresInstant.self).date)
    }
}
