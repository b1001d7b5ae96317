import AITBCDomain
import Foundation

extension CountingStore {
    func recordReceiptKey(_ key: ReceiptKeyRecord) async throws {
        try await base.recordReceiptKey(key)
    }

    func generatedReceiptKey(_ candidate: ReceiptKeyRecord, seed: ReceiptSigningSeed) async throws -> ReceiptSigningSeed {
        try await base.generatedReceiptKey(candidate, seed: seed)
    }

    func receiptKeys() async throws -> [ReceiptKeyRecord] {
        try await base.receiptKeys()
    }
}
