import AITBCDomain
import Foundation

extension CoordinatorSettings {
    /// The webhook retention setting `--help` lists.
    static let webhookRetentionDocumentation: [(variable: String, defaultValue: String, meaning: String)] = [
        (
            "AITBC_RETAIN_WEBHOOK_DAYS", "30",
            "days webhook events and their delivery log are kept once delivered or given up (pending deliveries are never deleted)"
        )
    ]

    /// Reads `AITBC_RETAIN_WEBHOOK_DAYS` into `retention` (unset or empty: the default).
    static func parseWebhookRetention(_ environment: [String: String], into retention: inout RetentionPolicy) throws {
        guard let raw = environment["AITBC_RETAIN_WEBHOOK_DAYS"], !raw.isEmpty else { return }
        guard let days = Int(raw), (1...36500).contains(days) else {
            throw Invalid(description: "AITBC_RETAIN_WEBHOOK_DAYS must be a whole number 1 … 36500, got \(raw)")
        }
        retention.webhookDays = days
    }
}
