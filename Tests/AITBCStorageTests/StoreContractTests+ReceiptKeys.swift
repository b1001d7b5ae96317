import AITBCDomain
import AITBCStorage
import Foundation
import Testing

/// Receipt signing keys as every backend keeps them: one generated key however many ask at once,
/// every key ever recorded listed, oldest first.
extension StoreContractTests {
    static func receiptKey(_ seed: ReceiptSigningSeed, generated: Bool, at offset: TimeInterval) throws -> ReceiptKeyRecord {
        ReceiptKeyRecord(keyID: try ReceiptSigner(seed: seed).keyID, createdAt: now.addingTimeInterval(offset), generated: generated)
    }

    @Test(arguments: StorePairs.all.map { $0.name })
    func storesAskedAtOnceKeepOneGeneratedReceiptKey(backend: String) async throws {
        let (first, second) = try await StorePairs.all.first { $0.name == backend }!.make()
        let candidates = (0..<8).map { _ in ReceiptSigningSeed.generate() }
        let kept = try await withThrowingTaskGroup(of: ReceiptSigningSeed.self) { group in
            for (index, seed) in candidates.enumerated() {
                let store = index.isMultiple(of: 2) ? first : second
                group.addTask { try await store.generatedReceiptKey(try Self.receiptKey(seed, generated: true, at: 0), seed: seed) }
            }
            return try await group.reduce(into: [ReceiptSigningSeed]()) { $0.append($1) }
        }
        let distinct = Set(kept.map { $0.hex })
        #expect(distinct.count == 1)
        #expect(candidates.contains(kept[0]))
        let listed = try await first.receiptKeys()
        let keptID = try ReceiptSigner(seed: kept[0]).keyID
        let listedIDs = listed.map { $0.keyID }
        #expect(listedIDs == [keptID])
        #expect(listed.first?.generated == true)
        // Asked again later, the stored key comes back, not the new candidate.
        let later = ReceiptSigningSeed.generate()
        #expect(try await second.generatedReceiptKey(try Self.receiptKey(later, generated: true, at: 60), seed: later) == kept[0])
        try await first.close()
        if backend != "sqlite" { try await second.close() }
    }

    @Test(arguments: backends.map { $0.name })
    func everyRecordedReceiptKeyIsListedOnceOldestFirst(backend: String) async throws {
        let store = try await Self.backends.first { $0.name == backend }!.make()
        let configured = ReceiptSigningSeed.generate()
        let rotated = ReceiptSigningSeed.generate()
        try await store.recordReceiptKey(try Self.receiptKey(configured, generated: false, at: 10))
        try await store.recordReceiptKey(try Self.receiptKey(configured, generated: false, at: 30))
        try await store.recordReceiptKey(try Self.receiptKey(rotated, generated: false, at: 20))
        let generated = ReceiptSigningSeed.generate()
        _ = try await store.generatedReceiptKey(try Self.receiptKey(generated, generated: true, at: 0), seed: generated)
        let listed = try await store.receiptKeys()
        let expectedIDs = try [generated, configured, rotated].map { try ReceiptSigner(seed: $0).keyID }
        let listedIDs = listed.map { $0.keyID }
        let origins = listed.map { $0.generated }
        #expect(listedIDs == expectedIDs)
        #expect(origins == [true, false, false])
        #expect(listed[1].createdAt == Self.now.addingTimeInterval(10))
        try await store.close()
    }

    @Test func aDatabaseOfAnOlderSchemaGetsTheReceiptKeyTable() async throws {
        let (store, _) = try await Self.olderSQLiteStore()
        #expect(try await store.receiptKeys().isEmpty)
        try await store.close()
    }
}
