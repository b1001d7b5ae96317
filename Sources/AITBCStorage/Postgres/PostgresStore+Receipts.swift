import AITBCDomain
import Foundation
import PostgresNIO

extension PostgresStore {
    public func recordReceiptKey(_ key: ReceiptKeyRecord) async throws {
        try await transaction { session in
            try await session.rows(
                """
                INSERT INTO receipt_keys (key_id, generated, seed_hex, created_at)
                VALUES (\(key.keyID), FALSE, NULL, \(PostgresInstant(key.createdAt))) ON CONFLICT DO NOTHING
                """)
        }
    }

    public func generatedReceiptKey(_ candidate: ReceiptKeyRecord, seed: ReceiptSigningSeed) async throws -> ReceiptSigningSeed {
        // Insert if absent, then read: of instances starting at once, the first insert wins and all read it.
        let stored = try await transaction { session in
            try await session.rows(
                """
                INSERT INTO receipt_keys (key_id, generated, seed_hex, created_at)
                VALUES (\(candidate.keyID), TRUE, \(seed.hex), \(PostgresInstant(candidate.createdAt))) ON CONFLICT DO NOTHING
                """)
            return try await session.rows("SELECT seed_hex FROM receipt_keys WHERE generated").first
                .map { try PostgresRecord($0)("seed_hex", as: String?.self) } ?? nil
        }
        guard let stored, let storedSeed = ReceiptSigningSeed(hex: stored) else {
            throw UnreadableReceiptKey()
        }
        return storedSeed
    }

    public func receiptKeys() async throws -> [ReceiptKeyRecord] {
        try await read { session in
            try await session.rows("SELECT key_id, generated, created_at FROM receipt_keys ORDER BY created_at, key_id")
                .map { row in
                    let record = PostgresRecord(row)
                    return ReceiptKeyRecord(
                        keyID: try record("key_id"), createdAt: try record("created_at", as: PostgresInstant.self).date,
                        generated: try record("generated"))
                }
        }
    }
}
