import Foundation

/// One event on its way to one endpoint, and what its attempts so far found.
public struct WebhookDelivery: Sendable, Equatable {
    /// Where a delivery stands.
    public enum Status: String, Sendable {
        case pending
        case delivered
        /// Given up (24 hours of failures, or the endpoint disabled).
        case failed
    }

    public var id: String
    public var eventID: String
    public var endpointID: String
    public var tenantID: String
    public var eventType: WebhookEventType
    public var status: Status
    public var attempts: Int
    public var lastStatusCode: Int?
    public var lastLatencyMilliseconds: Int?
    public var lastError: String?
    public var nextAttemptAt: Date?
    public var createdAt: Date
    public var deliveredAt: Date?
    /// Each attempt, oldest first (the most recent ``WebhookAttempt/kept``).
    public var log: [WebhookAttempt]

    public init(
        id: String, eventID: String, endpointID: String, tenantID: String, eventType: WebhookEventType, status: Status,
        attempts: Int, lastStatusCode: Int?, lastLatencyMilliseconds: Int?, lastError: String?, nextAttemptAt: Date?,
        createdAt: Date, deliveredAt: Date?, log: [WebhookAttempt]
    ) {
        self.id = id
        self.eventID = eventID
        self.endpointID = endpointID
        self.tenantID = tenantID
        self.eventType = eventType
        self.status = status
        self.attempts = attempts
        self.lastStatusCode = lastStatusCode
        self.lastLatencyMilliseconds = lastLatencyMilliseconds
        self.lastError = lastError
        self.nextAttemptAt = nextAttemptAt
        self.createdAt = createdAt
        self.deliveredAt = deliveredAt
        self.log = log
    }
}

/// One attempt of a delivery: when, what came back, how long it took, and when the next one is due.
public struct WebhookAttempt: Sendable, Equatable, Codable {
    /// How many attempts a delivery's log keeps.
    public static let kept = 30

    public var attempt: Int
    public var at: Date
    public var statusCode: Int?
    public var latencyMilliseconds: Int
    public var error: String?
    public var nextAttemptAt: Date?

    public init(attempt: Int, at: Date, statusCode: Int?, latencyMilliseconds: Int, error: String?, nextAttemptAt: Date?) {
        self.attempt = attempt
        self.at = at
        self.statusCode = statusCode
        self.latencyMilliseconds = latencyMilliseconds
        self.error = error
        self.nextAttemptAt = nextAttemptAt
    }

    enum CodingKeys: String, CodingKey {
        case attempt, at, error
        case statusCode = "status_code"
        case latencyMilliseconds = "latency_ms"
        case nextAttemptAt = "next_attempt_at"
    }

    /// `log` as stored (JSON text, instants in Unix milliseconds).
    public static func encode(_ log: [WebhookAttempt]) -> String {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .millisecondsSince1970
        return (try? encoder.encode(log)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
    }

    /// Reads ``encode(_:)``.
    public static func decode(_ text: String?) -> [WebhookAttempt] {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        return text.flatMap { try? decoder.decode([WebhookAttempt].self, from: Data($0.utf8)) } ?? []
    }
}

/// A due delivery this instance has claimed, with what it needs to send it.
public struct ClaimedWebhookDelivery: Sendable, Equatable {
    public var delivery: WebhookDelivery
    public var event: WebhookEvent
    public var endpoint: WebhookEndpoint

    public init(delivery: WebhookDelivery, event: WebhookEvent, endpoint: WebhookEndpoint) {
        self.delivery = delivery
        self.event = event
        self.endpoint = endpoint
    }
}

/// What the deliverer writes after an attempt.
public struct WebhookAttemptOutcome: Sendable, Equatable {
    /// The delivery as it is after the attempt (its status, counters, next try and log).
    public var delivery: WebhookDelivery
    /// Whether the attempt succeeded: the endpoint's failing-since is cleared, else set if unset.
    public var succeeded: Bool
    public var at: Date
    /// Set when this attempt disables the endpoint (failing for 3 days): the audit event recorded with it.
    public var disabling: AuditEvent?

    public init(delivery: WebhookDelivery, succeeded: Bool, at: Date, disabling: AuditEvent?) {
        self.delivery = delivery
        self.succeeded = succeeded
        self.at = at
        self.disabling = disabling
    }
}
