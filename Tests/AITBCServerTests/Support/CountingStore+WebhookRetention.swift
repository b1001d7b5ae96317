import AITBCDomain
import Foundation

extension CountingStore {
    func deleteFinishedWebhookDeliveries(createdBefore cutoff: Date, limit: Int) async throws -> Int {
        try await base.deleteFinishedWebhookDeliveries(createdBefore: cutoff, limit: limit)
    }
    func deleteWebhookEvents(createdBefore cutoff: Date, limit: Int) async throws -> Int {
        try await base.deleteWebhookEvents(createdBefore: cutoff, limit: limit)
    }
}
