import Foundation

/// A tenant's URL that receives signed events of the types it lists.
///
/// The signing secret is stored as issued (the server must be able to sign with it, unlike an API
/// key, of which only a digest is kept); it is shown once, at creation or rotation, and never
/// written to a log, a metric or an API answer after that.
public struct WebhookEndpoint: Sendable, Equatable, CustomDebugStringConvertible {
    public var id: String
    public var tenantID: String
    public var url: String
    public var events: [WebhookEventType]
    public var description: String?
    public var secret: String
    /// The secret before the last rotation, which also signs until ``previousSecretValidUntil``.
    public var previousSecret: String?
    public var previousSecretValidUntil: Date?
    public var createdAt: Date
    /// Set when the endpoint was disabled (by its owner, or after failing for 3 days).
    public var disabledAt: Date?
    /// When its deliveries began to fail without a success since; nil while they succeed.
    public var failingSince: Date?

    public init(
        id: String, tenantID: String, url: String, events: [WebhookEventType], description: String?, secret: String,
        previousSecret: String? = nil, previousSecretValidUntil: Date? = nil, createdAt: Date, disabledAt: Date? = nil,
        failingSince: Date? = nil
    ) {
        self.id = id
        self.tenantID = tenantID
        self.url = url
        self.events = events
        self.description = description
        self.secret = secret
        self.previousSecret = previousSecret
        self.previousSecretValidUntil = previousSecretValidUntil
        self.createdAt = createdAt
        self.disabledAt = disabledAt
        self.failingSince = failingSince
    }

    public var isEnabled: Bool { disabledAt == nil }

    /// The endpoint without its secrets: what string interpolation, a log line or a failed
    /// expectation shows (`description` is the owner's text).
    public var debugDescription: String {
        "WebhookEndpoint(\(id), tenant: \(tenantID), url: \(url), events: \(eventsText), enabled: \(isEnabled))"
    }

    /// The secrets that sign a delivery at `now`: the current one, and the previous one during its grace period.
    public func signingSecrets(at now: Date) -> [String] {
        guard let previousSecret, let until = previousSecretValidUntil, until > now else { return [secret] }
        return [secret, previousSecret]
    }

    /// `events` as stored: space-separated, sorted.
    public var eventsText: String { events.map(\.rawValue).sorted().joined(separator: " ") }

    /// Reads ``eventsText``.
    public static func events(fromText text: String) -> [WebhookEventType] {
        text.split(separator: " ").compactMap { WebhookEventType(rawValue: String($0)) }
    }
}
