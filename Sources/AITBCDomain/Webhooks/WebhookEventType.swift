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
    /// Defined for the quota feature; nothing emits it yet.
    case quotaThreshold = "quota.threshold"
    /// Defined for the credits feature; nothing emits it yet.
    case creditsLow = "credits.low"
    case jobCompleted = "job.completed"
    case jobFailed = "job.failed"
    case jobExpired = "job.expired"
    /// Sent by `POST /v1/webhooks/{id}/test` to that endpoint only; not subscribable.
    case test = "webhook.test"

    /// The types an endpoint may list in `events`.
    public static let subscribable: [WebhookEventType] = allCases.filter { $0 != .test }
}
