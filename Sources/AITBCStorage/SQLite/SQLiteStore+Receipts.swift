import AITBCDomain
import Foundation
import SQLiteNIO

extension SQLiteStore {
    public func recordReceiptKey(_ key: ReceiptKeyRecord) async throws {
        try await transaction { connection in
            _ = try connection.query(
                "INSERT INTO receipt_keys (key_id, generated, seed_hex, created_at) VALUES (?, 0, NULL, ?) ON CONFLICT DO NOTHING",
                [.text(key.keyID), .integer(Int(key.createdAt.unixMilliseconds))])
        }
    }

    public func generatedReceiptKey(_ candidate: ReceiptKeyRecord, seed: ReceiptSigningSeed) async throws -> ReceiptSigningSeed {
        let stored = try await transaction { connection in
            _ = try connection.query(
                "INSERT INTO receipt_keys (key_id, generated, seed_hex, created_at) VALUES (?, 1, ?, ?) ON CONFLICT DO NOTHING",
                [.text(candidate.keyID), .text(seed.hex), .integer(Int(candidate.createdAt.unixMilliseconds))])
            return try connection.query("SELECT seed_hex FROM receipt_keys WHERE generated = 1").first?
                .column("seed_hex")?.string
        }
        guard let stored, let storedSeed = ReceiptSigningSeed(hex: stored) else {
            throw UnreadableReceiptKey()
        }
        return storedSeed
    }

    public func receiptKeys() async throws -> [ReceiptKeyRecord] {
        try await read { connection in
            try connection.query("SELECT key_id, generated, created_at FROM receipt_keys ORDER BY created_at, key_id")
                .compactMap { row in
                    guard let keyID = row.column("key_id")?.string, let createdAt = Self.date(row.column("created_at")) else {
                        return nil
                    }
                    return ReceiptKeyRecord(keyID: keyID, createdAt: createdAt, generated: row.column("generated")?.integer == 1)
                }
        }
    }
}
