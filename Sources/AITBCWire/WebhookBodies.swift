import Foundation

/// `POST /v1/webhooks` body.
public struct CreateWebhookRequest: Codable, Sendable, Equatable {
    public var url: String
    public var events: [String]
    public var description: String?

    public init(url: String, events: [String], description: String? = nil) {
        self.url = url
        self.events = events
        self.description = description
    }
}

/// `PATCH /v1/webhooks/{webhook_id}` body: absent fields stay; `description: null` clears it;
/// `enabled: true` re-enables an endpoint (disabled by its owner or after failing for 3 days).
public struct UpdateWebhookRequest: Codable, Sendable, Equatable {
    public var url: String?
    public var events: [String]?
    public var description: String??
    public var enabled: Bool?

    public init(url: String? = nil, events: [String]? = nil, description: String?? = nil, enabled: Bool? = nil) {
        self.url = url
        self.events = events
        self.description = description
        self.enabled = enabled
    }

    enum CodingKeys: String, CodingKey {
        case url, events, description, enabled
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        url = try container.decodeIfPresent(String.self, forKey: .url)
        events = try container.decodeIfPresent([String].self, forKey: .events)
        description = try container.decodeNullable(String.self, forKey: .description)
        enabled = try container.decodeIfPresent(Bool.self, forKey: .enabled)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(url, forKey: .url)
        try container.encodeIfPresent(events, forKey: .events)
        if let description { try container.encode(description, forKey: .description) }
        try container.encodeIfPresent(enabled, forKey: .enabled)
    }
}

/// `POST /v1/webhooks/{webhook_id}/rotate-secret` body (optional).
public struct RotateWebhookSecretRequest: Codable, Sendable, Equatable {
    /// How long the old secret keeps signing beside the new one (default 86400, at most 7 days).
    public var gracePeriodSeconds: Int?

    public init(gracePeriodSeconds: Int? = nil) { self.gracePeriodSeconds = gracePeriodSeconds }

    enum CodingKeys: String, CodingKey {
        case gracePeriodSeconds = "grace_period_seconds"
    }
}

/// A webhook endpoint on the wire; `secret` only in the answer that issued it.
public struct WebhookView: Codable, Sendable, Equatable {
    public var webhookID: String
    public var url: String
    public var events: [String]
    public var description: String?
    public var enabled: Bool
    public var createdAt: Date
    public var disabledAt: Date?
    /// When deliveries began failing without a success since.
    public var failingSince: Date?
    /// Until when the secret before the last rotation also signs.
    public var previousSecretValidUntil: Date?
    public var secret: String?

    public init(
        webhookID: String, url: String, events: [String], description: String?, enabled: Bool, createdAt: Date,
        disabledAt: Date?, failingSince: Date?, previousSecretValidUntil: Date?, secret: String? = nil
    ) {
        self.webhookID = webhookID
        self.url = url
        self.events = events
        self.description = description
        self.enabled = enabled
        self.createdAt = createdAt
        self.disabledAt = disabledAt
        self.failingSince = failingSince
        self.previousSecretValidUntil = previousSecretValidUntil
        self.secret = secret
    }

    enum CodingKeys: String, CodingKey {
        case url, events, description, enabled, secret
        case webhookID = "webhook_id"
        case createdAt = "created_at"
        case disabledAt = "disabled_at"
        case failingSince = "failing_since"
        case previousSecretValidUntil = "previous_secret_valid_until"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(webhookID, forKey: .webhookID)
        try container.encode(url, forKey: .url)
        try container.encode(events, forKey: .events)
        try container.encode(description, forKey: .description)
        try container.encode(enabled, forKey: .enabled)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(disabledAt, forKey: .disabledAt)
        try container.encode(failingSince, forKey: .failingSince)
        try container.encode(previousSecretValidUntil, forKey: .previousSecretValidUntil)
        try container.encodeIfPresent(secret, forKey: .secret)
    }
}

/// One delivery of an event to an endpoint, with its attempts.
public struct WebhookDeliveryView: Codable, Sendable, Equatable {
    public var deliveryID: String
    public var eventID: String
    public var eventType: String
    /// `pending`, `delivered` or `failed` (given up).
    public var status: String
    public var attempts: Int
    public var lastStatusCode: Int?
    public var lastLatencyMs: Int?
    public var lastError: String?
    public var nextAttemptAt: Date?
    public var createdAt: Date
    public var deliveredAt: Date?
    public var attemptLog: [WebhookAttemptView]

    public init(
        deliveryID: String, eventID: String, eventType: String, status: String, attempts: Int, lastStatusCode: Int?,
        lastLatencyMs: Int?, lastError: String?, nextAttemptAt: Date?, createdAt: Date, deliveredAt: Date?,
        attemptLog: [WebhookAttemptView]
    ) {
        self.deliveryID = deliveryID
        self.eventID = eventID
        self.eventType = eventType
        self.status = status
        self.attempts = attempts
        self.lastStatusCode = lastStatusCode
        self.lastLatencyMs = lastLatencyMs
        self.lastError = lastError
        self.nextAttemptAt = nextAttemptAt
        self.createdAt = createdAt
        self.deliveredAt = deliveredAt
        self.attemptLog = attemptLog
    }

    enum CodingKeys: String, CodingKey {
        case status, attempts
        case deliveryID = "delivery_id"
        case eventID = "event_id"
        case eventType = "event_type"
        case lastStatusCode = "last_status_code"
        case lastLatencyMs = "last_latency_ms"
        case lastError = "last_error"
        case nextAttemptAt = "next_attempt_at"
        case createdAt = "created_at"
        case deliveredAt = "delivered_at"
        case attemptLog = "attempt_log"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(deliveryID, forKey: .deliveryID)
        try container.encode(eventID, forKey: .eventID)
        try container.encode(eventType, forKey: .eventType)
        try container.encode(status, forKey: .status)
        try container.encode(attempts, forKey: .attempts)
        try container.encode(lastStatusCode, forKey: .lastStatusCode)
        try container.encode(lastLatencyMs, forKey: .lastLatencyMs)
        try container.encode(lastError, forKey: .lastError)
        try container.encode(nextAttemptAt, forKey: .nextAttemptAt)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(deliveredAt, forKey: .deliveredAt)
        try container.encode(attemptLog, forKey: .attemptLog)
    }
}

/// One attempt of a delivery.
public struct WebhookAttemptView: Codable, Sendable, Equatable {
    public var attempt: Int
    public var at: Date
    public var statusCode: Int?
    public var latencyMs: Int
    public var error: String?
    public var nextAttemptAt: Date?

    public init(attempt: Int, at: Date, statusCode: Int?, latencyMs: Int, error: String?, nextAttemptAt: Date?) {
        self.attempt = attempt
        self.at = at
        self.statusCode = statusCode
        self.latencyMs = latencyMs
        self.error = error
        self.nextAttemptAt = nextAttemptAt
    }

    enum CodingKeys: String, CodingKey {
        case attempt, at, error
        case statusCode = "status_code"
        case latencyMs = "latency_ms"
        case nextAttemptAt = "next_attempt_at"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(attempt, forKey: .attempt)
        try container.encode(at, forKey: .at)
        try container.encode(statusCode, forKey: .statusCode)
        try container.encode(latencyMs, forKey: .latencyMs)
        try container.encode(error, forKey: .error)
        try container.encode(nextAttemptAt, forKey: .nextAttemptAt)
    }
}

/// `POST /v1/webhooks/{webhook_id}/test` answer: the event queued for that endpoint.
public struct WebhookTestView: Codable, Sendable, Equatable {
    public var eventID: String
    public var type: String

    public init(eventID: String, type: String) {
        self.eventID = eventID
        self.type = type
    }

    enum CodingKeys: String, CodingKey {
        case type
        case eventID = "event_id"
    }
}
