/// The kinds of event a webhook endpoint may subscribe to (DESIGN §6b).
public enum WebhookEventType: String, Sendable, CaseIterable, Codable {
    case keyCreated = "api_key.created"
    case keyRevoked = "api_key.revoked"
    case keyRegenerated = "api_key.regenerated"
    /// 7 days and 1 day before a key's expiry, each once.
    case keyExpiring = "api_key.expiring"
    case keyExpired = "api_key.expired"
    /// A key was refused for its rate limit (at most once per key per minute).
    case rateLimitExceeded = "rate_limit.exceeded"
    /// A tenant's daily or monthly quota reached 80 % or 100 % (each once per period).
    case quotaThreshold = "quota.threshold"
    /// A key's credits fell to 10 % of what it was last given, or to 0 (each once until a top-up or refill).
    case creditsLow = "credits.low"
    case jobCompleted = "job.completed"
    case jobFailed = "job.failed"
    case jobExpired = "job.expired"
    /// Sent by `POST /v1/webhooks/{id}/test` to that endpoint only; not subscribable.
    case test = "webhook.test"

    /// The types an endpoint may list in `events`.
    public static let subscribable: [WebhookEventType] = allCases.filter { $0 != .test }
}
