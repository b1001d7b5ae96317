import AITBCDomain
import AITBCWire
import Foundation
import Synchronization
import NIOCore
import SQLiteNIO

extension SQLiteStore {
    public func upsertMiner(_ miner: Miner) async throws -> Bool {
        try await transaction { connection in
            let holder = try connection.query(
                "SELECT key_id FROM miners WHERE tenant_id = ? AND id = ?", [.text(miner.tenantID), .text(miner.id)]
            ).first?.column("key_id")?.string
            if let holder, holder != miner.keyID { return false }
            _ = try connection.query(
                """
                INSERT INTO miners (tenant_id, id, key_id, capabilities, concurrency, region, status, inflight, metadata,
                registered_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(tenant_id, id) DO UPDATE SET key_id = excluded.key_id, capabilities = excluded.capabilities,
                concurrency = excluded.concurrency, region = excluded.region, status = excluded.status,
                inflight = excluded.inflight, metadata = excluded.metadata, registered_at = excluded.registered_at,
                last_seen_at = excluded.last_seen_at
                """,
                [
                    .text(miner.tenantID), .text(miner.id), .text(miner.keyID), .text(JSONText.encode(miner.capabilities)),
                    .integer(miner.concurrency), miner.region.map { .text($0) } ?? .null, .text(miner.status.rawValue),
                    .integer(miner.reportedInflight), .text(JSONText.encode(miner.metadata)),
                    .integer(Int(miner.registeredAt.unixMilliseconds)), .integer(Int(miner.lastSeenAt.unixMilliseconds)),
                ])
            return true
        }
    }

    public func deleteMiner(tenantID: String, id: String) async throws -> Bool {
        try await transaction { connection in
            let found = try connection.query(
                "SELECT id FROM miners WHERE tenant_id = ? AND id = ?", [.text(tenantID), .text(id)])
            guard !found.isEmpty else { return false }
            _ = try connection.query("DELETE FROM miners WHERE tenant_id = ? AND id = ?", [.text(tenantID), .text(id)])
            return true
        }
    }

    static let minerColumns = """
        tenant_id, id, key_id, capabilities, concurrency, region, status, inflight, metadata, registered_at, last_seen_at
        """

    public func miners() async throws -> [Miner] {
        try await read { connection in
            try connection.query("SELECT \(Self.minerColumns) FROM miners").compactMap(Self.miner(from:))
        }
    }

    public func miner(tenantID: String, id: String) async throws -> Miner? {
        try await read { connection in
            try connection.query(
                "SELECT \(Self.minerColumns) FROM miners WHERE tenant_id = ? AND id = ?", [.text(tenantID), .text(id)]
            ).first.flatMap(Self.miner(from:))
        }
    }

    static func miner(from row: SQLiteStoredRow) -> Miner? {
        guard let tenantID = row.column("tenant_id")?.string, let id = row.column("id")?.string,
            let status = row.column("status")?.string.flatMap(Miner.Status.init(rawValue:)),
            let registered = date(row.column("registered_at")),
            let seen = date(row.column("last_seen_at"))
        else { return nil }
        return Miner(
            id: id, tenantID: tenantID, keyID: row.column("key_id")?.string ?? "",
            capabilities: JSONText.decodeObject(row.column("capabilities")?.string),
            concurrency: row.column("concurrency")?.integer ?? 1,
            region: row.column("region").flatMap { $0.isNull ? nil : $0.string }, status: status,
            reportedInflight: row.column("inflight")?.integer ?? 0,
            metadata: JSONText.decodeObject(row.column("metadata")?.string), registeredAt: registered,
            lastSeenAt: seen)
    }
}
