import AITBCDomain
import Foundation

extension CoordinatorSettings {
    /// The webhook settings `--help` lists.
    static let webhookDocumentation: [(variable: String, defaultValue: String, meaning: String)] = [
        (
            "AITBC_WEBHOOK_RETRY_BASE_SECONDS", "30",
            "delay before a failed webhook delivery's first retry (seconds, fractions allowed); each later one doubles, with jitter, for 24 h"
        ),
        (
            "AITBC_WEBHOOK_ALLOW_PRIVATE", "false",
            "let webhooks reach loopback, private, link-local and other internal addresses (tests, closed networks)"
        ),
        ("AITBC_WEBHOOK_POLL_SECONDS", "5", "how often the deliverer looks for due deliveries when no event wakes it"),
    ]

    /// Reads the `AITBC_WEBHOOK_*` variables; `production` requires https targets.
    static func parseWebhookSettings(_ environment: [String: String], production: Bool) throws -> WebhookSettings {
        var settings = WebhookSettings()
        func seconds(_ name: String, _ range: ClosedRange<Double>) throws -> Duration? {
            guard let raw = environment[name], !raw.isEmpty else { return nil }
            guard let value = Double(raw), range.contains(value) else {
                throw Invalid(description: "\(name) must be a number of seconds \(range.lowerBound) … \(range.upperBound), got \(raw)")
            }
            return .milliseconds(Int64((value * 1000).rounded()))
        }
        if let base = try seconds("AITBC_WEBHOOK_RETRY_BASE_SECONDS", 0.01...86400) { settings.retryBase = base }
        if let poll = try seconds("AITBC_WEBHOOK_POLL_SECONDS", 0.05...3600) { settings.pollInterval = poll }
        var allowPrivate = false
        if let raw = environment["AITBC_WEBHOOK_ALLOW_PRIVATE"]?.lowercased(), !raw.isEmpty {
            switch raw {
            case "1", "true", "yes", "on": allowPrivate = true
            case "0", "false", "no", "off": allowPrivate = false
            default: throw Invalid(description: "AITBC_WEBHOOK_ALLOW_PRIVATE must be true or false, got \(raw)")
            }
        }
        settings.targets = WebhookTargetPolicy(requireHTTPS: production, allowPrivate: allowPrivate)
        return settings
    }
}
